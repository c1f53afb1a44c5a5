"""Password rules of our own (Django's validators do the rest, AUTH_PASSWORD_VALIDATORS)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Passwords this project publishes (the demo's logins, in the README and seed_demo): anyone
# may try them, so a real deployment never accepts one as a new password.
PUBLISHED_PASSWORDS = frozenset({"atende123"})


class PublishedPasswordValidator:
    """Refuses the demo's published password as a new password in production mode (in
    embedded mode, the demo's own mode, it stays usable)."""

    def validate(self, password, user=None):
        if settings.EMBEDDED:
            return
        if password.strip().casefold() in PUBLISHED_PASSWORDS:
            raise ValidationError(
                _("This password is the demo's, published in Atende's documentation: choose "
                  "another one."),
                code="password_published",
            )

    def get_help_text(self):
        return _("Your password cannot be the demo's published password.")
