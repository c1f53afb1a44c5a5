"""The OpenAPI schema lists every status code the API really returns."""

import threading

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import AllowAny

from apps.core.api.errors import ErrorSerializer
from apps.core.limits import MAX_PATH_ID


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


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema. drf-spectacular resolves its extensions lazily during a process's
    first schema generation, and two generations racing there crash one of them: schema
    generation is one at a time per process (it is rare and takes well under a second)."""

    _generating = threading.Lock()

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        with self._generating:
            return super().get(request, *args, **kwargs)
