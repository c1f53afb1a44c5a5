"""Permissions in the admin in the reader's language.

Django stores each permission's name in English when it creates it ("Can add membership");
the people and groups forms label the four model permissions (add, change, delete, view)
from their codename and the model's translated name instead ("Pode adicionar vínculo de
equipe"), and their choosers' titles start with a capital letter. A permission of another
kind keeps its stored name.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.models import Group
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

ACTIONS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}
PERMISSION_FIELDS = ("permissions", "user_permissions")


def permission_label(permission) -> str:
    """"App | model | what it allows", in the active language."""
    model = permission.content_type.model_class()
    action, _sep, model_name = permission.codename.partition("_")
    if model is None or action not in ACTIONS or model_name != model._meta.model_name:
        return str(permission)
    meta = model._meta
    return " | ".join((
        str(capfirst(meta.app_config.verbose_name)),
        str(capfirst(meta.verbose_name)),
        ACTIONS[action] % {"model": meta.verbose_name},
    ))


class PermissionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return permission_label(obj)


class PermissionLabelsMixin:
    """For a ModelAdmin with permissions (or groups) in a two-list chooser. The choosers'
    titles ("permissões disponíveis") are the field's name in the middle of Django's
    sentences too ("Escolher todos %s"): admin.css capitalises the titles alone."""

    class Media:
        css = {"all": ("css/admin.css",)}

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.name in PERMISSION_FIELDS:
            kwargs.setdefault("form_class", PermissionChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(PermissionLabelsMixin, DjangoGroupAdmin):
    pass
