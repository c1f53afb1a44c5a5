"""The base of every API view: JSON only, the schema with error responses, hooks run on
every permitted request (routing registers the presence heartbeat), and deletes that
answer 409 instead of 500 when rows still refer to the object."""

from collections.abc import Callable

from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from rest_framework.views import APIView

from apps.core.api.parsers import BoundedJSONParser
from apps.core.api.schema import ApiSchema
from apps.core.errors import Conflict

RequestHook = Callable[[object], None]
_request_hooks: list[RequestHook] = []


def on_api_request(hook: RequestHook) -> RequestHook:
    """Run ``hook(request)`` on every API request that passed its permission check (so a
    refused request changes nothing). Apps register hooks in their AppConfig.ready()."""
    if hook not in _request_hooks:
        _request_hooks.append(hook)
    return hook


class ApiViewMixin:
    parser_classes = [BoundedJSONParser]
    schema = ApiSchema()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        for hook in _request_hooks:
            hook(request)


class ApiView(ApiViewMixin, APIView):
    pass


class ProtectedDeleteMixin:
    # Deleting what other rows still reference is a 409, not a 500.

    def delete_instance(self, instance) -> None:
        instance.delete()

    def perform_destroy(self, instance):
        try:
            with transaction.atomic():
                self.delete_instance(instance)
        except (ProtectedError, RestrictedError) as error:
            objects = getattr(error, "protected_objects", None) or getattr(
                error, "restricted_objects", ()
            )
            kinds = sorted({str(obj._meta.verbose_name_plural) for obj in objects})
            used_by = ", ".join(kinds) or _("other records")
            raise Conflict(
                _("%(kind)s %(name)s is still used by %(used_by)s: remove or move them first.")
                % {"kind": capfirst(instance._meta.verbose_name), "name": instance,
                   "used_by": used_by},
                code="in_use",
            ) from error
