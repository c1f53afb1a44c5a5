"""What every API view shares: the base view (JSON only, heartbeat, error responses in the
schema), the id field and URL converter, the error serializers and the JSON 404."""

from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.core.errors import Conflict
from apps.routing import services as routing

MAX_ID = 2**63 - 1
MAX_PATH_ID = 10**18 - 1  # what IdConverter accepts


# --------------------------------------------------------------------------- ids


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
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
        return value
    return None


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference by id: a positive integer that exists. Anything else is a field error
    (an empty string is not taken for null, as form-minded DRF fields would)."""

    def run_validation(self, data=serializers.empty):
        if data == "":
            self.fail("incorrect_type", data_type="empty string")
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
        (serializers.BooleanField, (bool,), "a boolean"),
        (serializers.CharField, (str,), "a string"),
        (serializers.IntegerField, (int,), "an integer"),
        (serializers.ListField, (list,), "a list"),
    )

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {}
            for name, field in self.fields.items():
                value = data.get(name)
                if field.read_only or value is None:
                    continue
                for kind, types, label in self.EXPECTED:
                    if isinstance(field, kind):
                        wrong = not isinstance(value, types) or (
                            kind is serializers.IntegerField and isinstance(value, bool)
                        )
                        if wrong:
                            errors[name] = [f"Must be {label}."]
                        break
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class Serializer(StrictTypes, serializers.Serializer):
    pass


class ModelSerializer(StrictTypes, serializers.ModelSerializer):
    pass


# --------------------------------------------------------------------------- errors


class ErrorSerializer(serializers.Serializer):
    """Every 4xx: a sentence in ``detail``; validation errors add the offending fields."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)


class AgentSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()


class ConflictSerializer(ErrorSerializer):
    """409: a lost race names the current assignee."""

    assignee = AgentSummarySerializer(required=False, allow_null=True)


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any /api/ path that does not exist (or an id too large to exist): JSON, not HTML."""
    return JsonResponse({"detail": "Not found."}, status=404)


# --------------------------------------------------------------------------- schema


class ApiSchema(AutoSchema):
    """Adds the error responses every operation can give, so the schema lists every status
    code the API really returns."""

    BODY_METHODS = ("POST", "PUT", "PATCH")

    def _resolve_path_parameters(self, variables):
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["name"] in ("pk", "id"):
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_PATH_ID}
                parameter.setdefault("description", "The object's id.")
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = []
        if self.method in self.BODY_METHODS:
            codes += ["400", "415"]
        if not any(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]),
                    code,
                    direction=direction,
                )
        return responses


ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `detail` and the offending fields.",
    "401": "No credentials, or invalid ones.",
    "403": "The caller's role may not do this.",
    "404": "No such object, or not visible to the caller.",
    "409": "Conflict with the current state.",
    "415": "The body must be JSON.",
}


def error(code: int, description: str | None = None, serializer=ErrorSerializer):
    return OpenApiResponse(serializer, description=description or ERROR_DESCRIPTIONS[str(code)])


# --------------------------------------------------------------------------- views


class ApiViewMixin:
    # JSON in and out. Every authenticated request of a person is a presence heartbeat,
    # recorded after the permission check so that a refused request changes nothing.

    parser_classes = [JSONParser]
    schema = ApiSchema()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if isinstance(request.user, User):
            routing.record_heartbeat(agent=request.user)


class ApiView(ApiViewMixin, APIView):
    pass


class GenericApiView(ApiViewMixin, GenericAPIView):
    pass


class ProtectedDeleteMixin:
    # Deleting what other rows still reference is a 409, not a 500.

    def perform_destroy(self, instance):
        try:
            with transaction.atomic():
                instance.delete()
        except (ProtectedError, RestrictedError) as error:
            objects = getattr(error, "protected_objects", None) or getattr(
                error, "restricted_objects", ()
            )
            kinds = sorted({str(obj._meta.verbose_name_plural) for obj in objects})
            used_by = ", ".join(kinds) or "other records"
            raise Conflict(
                f"{instance._meta.verbose_name.capitalize()} {instance} is still used by "
                f"{used_by}: remove or move them first.",
                code="in_use",
            ) from error
