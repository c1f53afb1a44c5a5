"""``POST simulations/`` and ``GET simulations/{id}`` (api.md "Simulations, exactly")."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from apps.accounts.permissions import IsSupervisor
from apps.core.api import ApiView, error
from apps.core.errors import NotFound
from apps.simulation import services
from apps.simulation.models import SimulationRun


class SimulationsView(ApiView):
    """Ask for a simulation: traffic (synthetic, a recorded period or CSV), a roster, a
    scenario and a seed. Answers 202 at once; a worker runs it."""

    permission_classes = [IsSupervisor]

    @extend_schema(request=OpenApiTypes.OBJECT,
                   responses={202: OpenApiTypes.OBJECT, 400: error(400), 403: error(403)})
    def post(self, request):
        run = services.start_simulation(request=request.data, actor=request.user)
        return Response(services.describe(run), status=status.HTTP_202_ACCEPTED)


class SimulationView(ApiView):
    """A simulation's status and progress, and once done the figures of the baseline and
    the scenario side by side."""

    permission_classes = [IsSupervisor]

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 403: error(403), 404: error(404)})
    def get(self, request, pk: int):
        run = SimulationRun.objects.filter(pk=pk).first()
        if run is None:
            raise NotFound(_("Simulation %(id)s does not exist.") % {"id": pk})
        return Response(services.describe(run))
