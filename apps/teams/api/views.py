from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from apps.accounts.permissions import IsAdmin, IsSupervisor, ReadPersonWriteAdmin
from apps.core.api import ApiView, ApiViewMixin, ProtectedDeleteMixin, error
from apps.routing import services as routing
from apps.teams.api.serializers import (
    DistributedSerializer,
    RoutingSettingsSerializer,
    TeamSerializer,
)
from apps.teams.models import RoutingSettings, Team
from apps.teams.services import delete_team, update_routing_settings

TEAM_PREFETCH = ("memberships", "opening_hours", "closed_dates", "ladder_steps__skills")


class TeamListView(ApiViewMixin, generics.ListCreateAPIView):
    """Teams with their members (GET: any person; POST: administrators)."""

    permission_classes = [ReadPersonWriteAdmin]
    serializer_class = TeamSerializer
    pagination_class = None

    def get_queryset(self):
        return Team.objects.prefetch_related(*TEAM_PREFETCH).order_by("name", "id")


@extend_schema_view(
    delete=extend_schema(
        responses={204: None, 409: error(409, "Conversations still belong to the team.")}
    )
)
class TeamDetailView(ProtectedDeleteMixin, ApiViewMixin, generics.RetrieveUpdateDestroyAPIView):
    """One team (administrators). PATCH ``members`` replaces the memberships; DELETE refuses
    a team that conversations still belong to (409)."""

    permission_classes = [IsAdmin]
    serializer_class = TeamSerializer
    http_method_names = ["get", "patch", "delete", "options"]

    def get_queryset(self):
        return Team.objects.prefetch_related(*TEAM_PREFETCH)

    def delete_instance(self, instance) -> None:
        delete_team(team=instance, actor=self.request.user)


class DistributeView(ApiView):
    """A supervisor distributes the team's queue now, oldest first, among its online members
    with room: by capacity in a ``capacity`` team, by rotation in ``manual`` and
    ``sequential`` ones, never past anyone's limit; what does not fit stays queued. POST
    does it; GET says what it would do now and changes nothing (the floor asks first)."""

    permission_classes = [IsSupervisor]

    def _distribute(self, request, pk, *, preview):
        if not Team.objects.filter(pk=pk).exists():
            raise NotFound(_("There is no such team."))
        done = routing.distribute_on_demand(team_id=pk, actor=request.user, preview=preview)
        return Response(DistributedSerializer.payload(done))

    @extend_schema(responses={200: DistributedSerializer, 404: error(404)})
    def get(self, request, pk):
        return self._distribute(request, pk, preview=True)

    @extend_schema(request=None, responses={200: DistributedSerializer, 404: error(404)})
    def post(self, request, pk):
        return self._distribute(request, pk, preview=False)


class RoutingSettingsView(ApiView):
    """The default team (GET: any person; PUT: administrators)."""

    permission_classes = [ReadPersonWriteAdmin]

    @extend_schema(responses={200: RoutingSettingsSerializer})
    def get(self, request):
        return Response(_settings_payload(RoutingSettings.load()))

    @extend_schema(request=RoutingSettingsSerializer, responses={200: RoutingSettingsSerializer})
    def put(self, request):
        serializer = RoutingSettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        settings = update_routing_settings(actor=request.user, **serializer.validated_data)
        return Response(_settings_payload(settings))


def _settings_payload(settings: RoutingSettings) -> dict:
    return {
        "default_team": settings.default_team_id,
        "preferred_max_wait_seconds": settings.preferred_max_wait_seconds,
    }
