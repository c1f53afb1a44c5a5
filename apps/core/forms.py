"""Form fields every app's admin shares."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from apps.core.limits import MAX_WAIT_SECONDS


class SecondsField(forms.IntegerField):
    """Seconds of a time rule: a whole number from ``minimum`` (0 or 1) to 30 days; empty
    means the rule is off (or, where said, falls back to a wider setting)."""

    def __init__(self, *, minimum: int = 0, **kwargs):
        kwargs.setdefault("required", False)
        if kwargs.get("label"):  # a label given here is a model's verbose name: lower case
            kwargs["label"] = capfirst(kwargs["label"])
        super().__init__(min_value=minimum, max_value=MAX_WAIT_SECONDS, **kwargs)
        self.error_messages["min_value"] = (
            _("A wait cannot be negative: give 0 (no wait) or more seconds, or leave it empty.")
            if minimum == 0
            else _("Give a number of seconds of at least 1, or leave it empty to switch the "
                   "rule off.")
        )
        self.error_messages["max_value"] = _("At most %(limit_value)s seconds (30 days).")
        self.widget.attrs.setdefault("placeholder", _("off"))
