"""What every API view shares: the base views and their per-request hooks, strict fields
and serializers, the schema with its error responses, and the one exception handler."""

from apps.core.api.errors import (
    AgentSummarySerializer,
    ConflictSerializer,
    ErrorSerializer,
    exception_handler,
    not_found,
)
from apps.core.api.fields import (
    IdConverter,
    IdRelatedField,
    ModelSerializer,
    Serializer,
    StrictTypes,
    parse_id,
)
from apps.core.api.schema import ApiSchema, error
from apps.core.api.views import ApiView, ApiViewMixin, ProtectedDeleteMixin, on_api_request

__all__ = [
    "AgentSummarySerializer",
    "ApiSchema",
    "ApiView",
    "ApiViewMixin",
    "ConflictSerializer",
    "ErrorSerializer",
    "IdConverter",
    "IdRelatedField",
    "ModelSerializer",
    "ProtectedDeleteMixin",
    "Serializer",
    "StrictTypes",
    "error",
    "exception_handler",
    "not_found",
    "on_api_request",
    "parse_id",
]
