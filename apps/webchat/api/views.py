from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from apps.accounts.permissions import IsAdmin
from apps.core.api import ApiView
from apps.core.errors import InvalidInput, NotFound
from apps.webchat import services
from apps.webchat.api.serializers import WebChatSerializer, webchat_payload
from apps.webchat.models import OfferedSkill, WebChat

FIELDS = ("name", "allowed_origins", "teams_offered", "greeting", "language", "color", "active")


def _fields(data) -> dict:
    if not isinstance(data, dict):
        raise InvalidInput(_("Send a JSON object."))
    unknown = sorted(set(data) - set(FIELDS) - {"new_secret", "id", "public_key",
                                                  "integration", "secret"})
    if unknown:
        raise InvalidInput(
            _("Unknown fields: %(fields)s.") % {"fields": ", ".join(unknown)}, field=unknown[0]
        )
    return {k: data[k] for k in FIELDS if k in data}


def _webchats():
    return WebChat.objects.prefetch_related(
        "teams_offered",
        Prefetch("teams_offered__required_skills",
                 queryset=OfferedSkill.objects.select_related("skill")),
    ).order_by("name", "id")


class WebChatListView(ApiView):
    """The web chats; POST creates one (its answer carries ``secret``, once)."""

    permission_classes = [IsAdmin]

    @extend_schema(responses={200: WebChatSerializer(many=True)})
    def get(self, request):
        return Response([webchat_payload(w) for w in _webchats()])

    @extend_schema(request=WebChatSerializer, responses={201: WebChatSerializer})
    def post(self, request):
        fields = _fields(request.data)
        if "name" not in fields:
            raise InvalidInput(_("Give the web chat a name."), field="name")
        webchat, secret = services.create_webchat(**fields)
        webchat = _webchats().get(pk=webchat.pk)
        return Response(webchat_payload(webchat, secret), status=status.HTTP_201_CREATED)


class WebChatDetailView(ApiView):
    """GET one; PATCH any of its fields (``{"new_secret": true}`` replaces the secret and
    answers it, once); DELETE removes it (its integration client is revoked and stays)."""

    permission_classes = [IsAdmin]

    def _get(self, pk) -> WebChat:
        webchat = _webchats().filter(pk=pk).first()
        if webchat is None:
            raise NotFound(_("There is no web chat %(id)s.") % {"id": pk})
        return webchat

    @extend_schema(responses={200: WebChatSerializer})
    def get(self, request, pk):
        return Response(webchat_payload(self._get(pk)))

    @extend_schema(request=WebChatSerializer, responses={200: WebChatSerializer})
    def patch(self, request, pk):
        webchat = self._get(pk)
        fields = _fields(request.data)
        renew = request.data.get("new_secret", False)
        if not isinstance(renew, bool):
            raise InvalidInput(_("new_secret is true or false."), field="new_secret")
        services.update_webchat(webchat=webchat, **fields)
        secret = services.renew_secret(webchat=webchat) if renew else None
        return Response(webchat_payload(self._get(pk), secret))

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.delete_webchat(webchat=self._get(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
