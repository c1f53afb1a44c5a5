from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from django.conf import settings
from django.contrib.auth import authenticate
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from apps.accounts import services as accounts
from apps.accounts.api.serializers import (
    AgentSerializer,
    AgentUpdateSerializer,
    IntegrationSerializer,
    PresenceSerializer,
    QueueCountsSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    WsTicketSerializer,
)
from apps.accounts.lockout import cool_off_seconds, lockout_detail, retry_after
from apps.accounts.models import IntegrationClient, PersonToken, User
from apps.accounts.permissions import IsAdmin, IsPerson, ReadPersonWriteAdmin
from apps.conversations import selectors
from apps.core.api import ApiView, ApiViewMixin, error
from apps.core.api.pagination import BoundedListPagination
from apps.core.errors import InvalidInput
from apps.routing import services as routing


class FailedSignInThrottle(BaseThrottle):
    """DRF's throttling hook over django-axes' counts: a (username, address) pair, or an
    address, with too many recent failures is refused before anything is looked up or
    hashed; ``wait`` is the time its lock still lasts."""

    def allow_request(self, request, view):
        data = request.data if isinstance(request.data, dict) else {}
        username = data.get("username")
        credentials = get_credentials(username if isinstance(username, str) else None)
        allowed = AxesProxyHandler.is_allowed(request._request, credentials)
        if not allowed:
            self.seconds = retry_after(request._request, credentials)
        return allowed

    def wait(self):
        return getattr(self, "seconds", None) or cool_off_seconds()


class TokenView(ApiView):
    """Exchange a username and password for a new API token of the person (valid
    PERSON_TOKEN_LIFETIME_DAYS). Failed attempts are counted per (username, address) pair:
    after 10 in 5 minutes that pair gets 429 with Retry-After (the time left); an address
    has a much higher ceiling of its own."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [FailedSignInThrottle]

    def throttled(self, request, wait):
        raise Throttled(wait=wait, detail=lockout_detail(int(wait)))

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, 400: error(400, "Wrong username or password."),
                   429: error(429, "Too many failed sign-ins (see Retry-After).")},
        auth=[],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Django's request: django-axes counts the failure and flags a lockout on it.
        user = authenticate(
            request._request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if getattr(request._request, "axes_locked_out", False):
            self.throttled(request, retry_after(
                request._request, get_credentials(serializer.validated_data["username"])))
        if user is None or not user.is_active:
            raise ValidationError(
                {"non_field_errors": [_("Unable to sign in with that username and password.")]}
            )
        return Response({"token": accounts.issue_person_token(user=user)})


class MyTokenView(ApiView):
    """DELETE revokes the caller's token: the one this request was made with, or, from a
    browser session (no token in the request), every token of the person. Websockets
    opened with a revoked token close (4401)."""

    permission_classes = [IsPerson]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        if isinstance(request.auth, PersonToken):
            accounts.revoke_person_token(token=request.auth)
        else:
            accounts.revoke_person_tokens(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WsTicketView(ApiView):
    """A single-use ticket for ``/ws/inbox/?ticket=<ticket>``, valid WS_TICKET_SECONDS
    (30): a socket URL carries it instead of the token, which then never appears in access
    logs. The socket belongs to the credential that asked (revoking it closes the socket)."""

    permission_classes = [IsPerson]

    @extend_schema(request=None, responses={201: WsTicketSerializer})
    def post(self, request):
        token_id = request.auth.pk if isinstance(request.auth, PersonToken) else None
        session_key = None if token_id else request.session.session_key
        ticket = accounts.issue_ws_ticket(
            user=request.user, token_id=token_id, session_key=session_key
        )
        return Response(
            {"ticket": ticket, "expires_in": settings.WS_TICKET_SECONDS},
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    get=extend_schema(responses={200: AgentSerializer(many=True), 400: error(400)})
)
class AgentListView(ApiViewMixin, generics.ListCreateAPIView):
    """Every person (GET: any person; POST: administrators), by username: at most
    ``?limit`` (default 100, at most 500) from ``?offset``, the next ones in the ``Link``
    header."""

    permission_classes = [ReadPersonWriteAdmin]
    serializer_class = AgentSerializer
    pagination_class = BoundedListPagination

    def get_queryset(self):
        return User.objects.prefetch_related("skill_levels").order_by("username", "id")


class AgentDetailView(ApiViewMixin, generics.RetrieveUpdateDestroyAPIView):
    """One person (administrators). DELETE deactivates: the person can no longer sign in,
    goes offline and their reservations are released; their history stays."""

    permission_classes = [IsAdmin]
    http_method_names = ["get", "patch", "delete", "options"]
    queryset = User.objects.all()

    def get_serializer_class(self):
        return AgentSerializer if self.request.method == "GET" else AgentUpdateSerializer

    @extend_schema(request=AgentUpdateSerializer, responses={200: AgentSerializer})
    def patch(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)

    def perform_update(self, serializer):
        agent = serializer.instance
        data = serializer.validated_data
        capacity = data.pop("capacity", None)
        active = data.pop("is_active", None)
        if active is False and agent.pk == self.request.user.pk:
            raise InvalidInput(_("You cannot deactivate yourself."), field="is_active")
        role = data.pop("role", None)
        skills = data.pop("skills", None)
        serializer.save()
        if skills is not None:
            routing.set_agent_skills(agent_id=agent.pk, levels=skills, actor=self.request.user)
        if role is not None:
            accounts.set_role(agent_id=agent.pk, role=role, actor=self.request.user)
        if active is True and not agent.is_active:
            routing.activate_agent(agent_id=agent.pk, actor=self.request.user)
        if capacity is not None:
            routing.set_capacity(agent_id=agent.pk, capacity=capacity, actor=self.request.user)
        if active is False and agent.is_active:
            routing.deactivate_agent(agent_id=agent.pk, actor=self.request.user)
        agent.refresh_from_db()
        if hasattr(agent, "_prefetched_objects_cache"):
            agent._prefetched_objects_cache.pop("skill_levels", None)

    def destroy(self, request, *args, **kwargs):
        agent = self.get_object()
        if agent.pk == request.user.pk:
            raise InvalidInput(_("You cannot deactivate yourself."))
        routing.deactivate_agent(agent_id=agent.pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(ApiView):
    """The caller, as an agent object."""

    permission_classes = [IsPerson]

    @extend_schema(responses={200: AgentSerializer})
    def get(self, request):
        return Response(AgentSerializer(request.user).data)


class PresenceView(ApiView):
    """The caller's presence; setting it is how an agent goes online, away or offline."""

    permission_classes = [IsPerson]

    @extend_schema(responses={200: PresenceSerializer})
    def get(self, request):
        return Response({"status": request.user.presence})

    @extend_schema(request=PresenceSerializer, responses={200: PresenceSerializer})
    def put(self, request):
        serializer = PresenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        routing.set_presence(
            agent=request.user, status=serializer.validated_data["status"], actor=request.user
        )
        return Response({"status": request.user.presence})


class QueuesView(ApiView):
    """The caller's queue counts (api.md "Queue counts")."""

    permission_classes = [IsPerson]

    @extend_schema(responses={200: QueueCountsSerializer})
    def get(self, request):
        return Response(selectors.queue_counts_for(request.user))


class IntegrationListView(ApiViewMixin, generics.ListCreateAPIView):
    """API clients with the integration role. The token is shown once, in the answer to POST."""

    permission_classes = [IsAdmin]
    serializer_class = IntegrationSerializer
    pagination_class = None
    queryset = IntegrationClient.objects.order_by("name", "id")


class IntegrationDetailView(ApiViewMixin, generics.RetrieveUpdateDestroyAPIView):
    """GET one client; PATCH its ``name``, ``webhook_url`` and ``active``; DELETE revokes its
    token (the record stays, with ``revoked_at``)."""

    permission_classes = [IsAdmin]
    http_method_names = ["get", "patch", "delete", "options"]
    queryset = IntegrationClient.objects.all()
    serializer_class = IntegrationSerializer

    @extend_schema(request=IntegrationSerializer, responses={200: IntegrationSerializer})
    def patch(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)

    def perform_destroy(self, instance):
        IntegrationClient.objects.filter(pk=instance.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
