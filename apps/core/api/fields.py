"""Strict JSON input: ids as positive integers, JSON types as the schema says them."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from apps.core.limits import is_id


class IdConverter:
    """Path ids: 1 to 18 digits, so that no id in a URL overflows a 64-bit column; longer
    numbers and anything else fall through to the JSON 404."""

    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


def parse_id(value) -> int | None:
    """A positive 64-bit integer from JSON, else None."""
    return value if is_id(value) else None

class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference by id: a positive integer that exists. Anything else is a field error
    (an empty string is not taken for null, as form-minded DRF fields would)."""

    def run_validation(self, data=serializers.empty):
        if data == "":
            self.fail("incorrect_type", data_type=_("empty string"))
        return super().run_validation(data)

    def to_internal_value(self, data):
        pk = parse_id(data)
        if pk is None:
            if isinstance(data, bool) or not isinstance(data, int):
                self.fail("incorrect_type", data_type=type(data).__name__)
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(pk)


class StrictTypes:
    """JSON types as the schema says them: DRF would take 5 for a text, "5" for a number and
    "yes" for a boolean; the API answers 400 instead."""

    EXPECTED = (
        (serializers.BooleanField, (bool,), gettext_lazy("Must be a boolean.")),
        (serializers.CharField, (str,), gettext_lazy("Must be a string.")),
        (serializers.IntegerField, (int,), gettext_lazy("Must be an integer.")),
        (serializers.ListField, (list,), gettext_lazy("Must be a list.")),
    )

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {}
            for name, field in self.fields.items():
                value = data.get(name)
                if field.read_only or value is None:
                    continue
                for kind, types, message in self.EXPECTED:
                    if isinstance(field, kind):
                        wrong = not isinstance(value, types) or (
                            kind is serializers.IntegerField and isinstance(value, bool)
                        )
                        if wrong:
                            errors[name] = [str(message)]
                        break
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class Serializer(StrictTypes, serializers.Serializer):
    pass


class ModelSerializer(StrictTypes, serializers.ModelSerializer):
    pass
