from django.contrib.auth import authenticate
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from apps.accounts.api.serializers import (
    AgentSerializer,
    AgentUpdateSerializer,
    IntegrationSerializer,
    PresenceSerializer,
    QueueCountsSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from apps.accounts.models import IntegrationClient, User
from apps.accounts.permissions import IsAdmin, IsPerson, ReadPersonWriteAdmin
from apps.core.api import ApiView, ApiViewMixin, error
from apps.core.errors import InvalidInput
from apps.routing import selectors
from apps.routing import services as routing


class TokenView(ApiView):
    """Exchange a username and password for the person's API token."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, 400: error(400, "Wrong username or password.")},
        auth=[],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise ValidationError(
                {"non_field_errors": [_("Unable to sign in with that username and password.")]}
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class AgentListView(ApiViewMixin, generics.ListCreateAPIView):
    """Every person (GET: any person; POST: administrators)."""

    permission_classes = [ReadPersonWriteAdmin]
    serializer_class = AgentSerializer
    pagination_class = None

    def get_queryset(self):
        return User.objects.order_by("username", "id")


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
        serializer.save()
        if active is True and not agent.is_active:
            routing.activate_agent(agent_id=agent.pk, actor=self.request.user)
        if capacity is not None:
            routing.set_capacity(agent_id=agent.pk, capacity=capacity, actor=self.request.user)
        if active is False and agent.is_active:
            routing.deactivate_agent(agent_id=agent.pk, actor=self.request.user)
        agent.refresh_from_db()

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


class IntegrationDetailView(ApiViewMixin, generics.DestroyAPIView):
    """DELETE revokes the client's token (the record stays, with ``revoked_at``)."""

    permission_classes = [IsAdmin]
    queryset = IntegrationClient.objects.all()
    serializer_class = IntegrationSerializer

    def perform_destroy(self, instance):
        IntegrationClient.objects.filter(pk=instance.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
