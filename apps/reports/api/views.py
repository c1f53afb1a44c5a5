"""``GET reports/teams``, ``reports/agents``, ``reports/ratings`` (docs/reports.md): JSON or
CSV. Supervisors and administrators see every team and agent; an agent sees their own row
and their own ratings, and not the teams report."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apps.accounts.permissions import IsPerson
from apps.core.api import ApiView, error
from apps.core.errors import InvalidInput
from apps.reports.agents import AGENT_ROW_FIELDS, RATING_FIELDS, agents_report, ratings_list
from apps.reports.api.renderers import CsvRenderer
from apps.reports.periods import FORMATS, read_question
from apps.reports.selectors import EXTRA_TEAM_FIELDS, TEAM_ROW_FIELDS, teams_report

QUERY = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (inclusive)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (inclusive)."),
    OpenApiParameter("group", str, enum=["day", "hour"], description="Default day."),
    OpenApiParameter("team", int, many=True, description="Team ids (repeat); default all."),
    OpenApiParameter("format", str, enum=list(FORMATS), description="json (default) or csv."),
]


class ReportView(ApiView):
    permission_classes = [IsPerson]
    renderer_classes = [JSONRenderer, CsvRenderer]
    csv_fields: tuple = ()

    def perform_content_negotiation(self, request, force=False):
        fmt = request.query_params.get("format")
        if "format" in request.query_params and fmt not in FORMATS:
            raise InvalidInput(_("“format” must be json or csv."), field="format")
        return super().perform_content_negotiation(request, force=force)

    def finalize_response(self, request, response, *args, **kwargs):
        if response.status_code >= 400:  # refusals are JSON whatever was asked
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        response = super().finalize_response(request, response, *args, **kwargs)
        renderer = getattr(request, "accepted_renderer", None)
        if renderer is not None and renderer.format == "csv" and response.status_code == 200:
            response["Content-Disposition"] = f'attachment; filename="{self.filename}.csv"'
        return response

    def agent_only(self, request):
        return None if request.user.is_supervisor else request.user


class TeamsReportView(ReportView):
    """Per team and day (or local hour): conversations, served, abandoned, waits and first
    responses (p50, p90), resolution, the share within the answer target, moves and
    ratings; and each team's totals over the period. Supervisors only."""

    csv_fields = TEAM_ROW_FIELDS + EXTRA_TEAM_FIELDS
    filename = "teams"

    @extend_schema(parameters=QUERY, responses={200: OpenApiTypes.OBJECT, 400: error(400),
                                                403: error(403)})
    def get(self, request):
        if not request.user.is_supervisor:
            raise PermissionDenied(_("Only supervisors read the teams report; an agent reads "
                                     "their own in reports/agents."))
        return Response(teams_report(read_question(request.query_params)))


class AgentsReportView(ReportView):
    """Per agent and day (or hour): served, first response p50, online, away and busy
    seconds, occupancy, ratings. An agent gets their own rows."""

    csv_fields = AGENT_ROW_FIELDS
    filename = "agents"

    @extend_schema(parameters=QUERY, responses={200: OpenApiTypes.OBJECT, 400: error(400)})
    def get(self, request):
        question = read_question(request.query_params)
        return Response(agents_report(question, only=self.agent_only(request)))


class RatingsReportView(ReportView):
    """The customers' ratings of the period (an agent: their own)."""

    csv_fields = RATING_FIELDS
    filename = "ratings"

    @extend_schema(parameters=QUERY, responses={200: OpenApiTypes.OBJECT, 400: error(400)})
    def get(self, request):
        question = read_question(request.query_params)
        return Response(ratings_list(question, only=self.agent_only(request)))
