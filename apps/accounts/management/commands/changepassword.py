"""Django's ``changepassword``, with what Atende's ``change_password`` service adds: once the
password changed, the person's API tokens go too."""

import getpass

from django.contrib.auth.management.commands import changepassword

from apps.accounts.models import User
from apps.accounts.services import revoke_person_tokens


class Command(changepassword.Command):
    def handle(self, *args, **options):
        people = User.objects.using(options["database"])
        username = options["username"] or getpass.getuser()
        before = people.filter(username=username).values_list("password", flat=True).first()
        message = super().handle(*args, **options)  # refuses, with its own errors, or saves
        person = people.get(username=username)
        if person.password != before:
            revoke_person_tokens(user=person)
        return message
