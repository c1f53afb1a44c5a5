from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from apps.accounts.permissions import IsSupervisor
from apps.core.api import ApiView
from apps.floor.api.serializers import FloorStatsSerializer
from apps.floor.stats import floor_stats


class TeamStatsView(ApiView):
    """The floor at a glance (supervisors): per team its queue, reservations, assignments,
    members by presence, online load against capacity, the last hour's assignments, their
    median wait and the share answered within the team's target, and the queue depth of
    the last hour; Waiting's count and oldest wait. Constant queries for any number of
    teams."""

    permission_classes = [IsSupervisor]

    @extend_schema(responses={200: FloorStatsSerializer})
    def get(self, request):
        return Response(floor_stats())
