"""The API's errors: the one exception handler (every 4xx is JSON with a ``detail``
sentence), the error shapes the schema names, and the JSON 404."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.errors import DomainError
from apps.core.http import is_unavailable, unavailable_response


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
    return JsonResponse({"detail": _("Not found.")}, status=404)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status_code)
    if is_unavailable(exc):
        return unavailable_response(exc)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        response.data = {"detail": _first_message(fields), **fields}
    elif isinstance(response.data, dict) and "detail" not in response.data:
        response.data = {"detail": str(exc), **response.data}
    if response.status_code == status.HTTP_401_UNAUTHORIZED and "detail" in response.data:
        response.data["detail"] = str(response.data["detail"])
    return response


def _first_message(fields) -> str:
    for name, messages in fields.items():
        message = messages
        while isinstance(message, (list, dict)) and message:
            message = message[0] if isinstance(message, list) else next(iter(message.values()))
        if message:
            prefix = "" if name in ("non_field_errors", "detail") else f"{name}: "
            return _("Invalid input. %(problem)s") % {"problem": f"{prefix}{message}"}
    return _("Invalid input.")
