"""Conversation actions: each view validates the payload and calls one routing service,
which decides whether the caller may do it (NotAllowed is a 403, a lost race a 409)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from apps.accounts.permissions import IsPerson, IsSupervisor, IsSupervisorOrIntegration
from apps.conversations.api.serializers import ConversationSerializer
from apps.core.api import ApiView, ConflictSerializer, error
from apps.routing import services as routing
from apps.routing.api.serializers import AssignSerializer, RouteSerializer, TransferSerializer

CONFLICT = error(409, "Taken by someone else (see `assignee`), closed, or changed meanwhile.",
                 ConflictSerializer)


def _payload(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ClaimView(ApiView):
    """ATENDER: the caller takes the conversation (from Waiting, their team's queue, or
    reserved for them). When someone else was faster: 409 naming the current assignee."""

    permission_classes = [IsPerson]

    @extend_schema(request=None, responses={200: ConversationSerializer, 409: CONFLICT})
    def post(self, request, pk):
        conversation = routing.claim_conversation(conversation_id=pk, agent=request.user)
        return Response(ConversationSerializer(conversation).data)


class AssignView(ApiView):
    """A supervisor gives the conversation to an agent: ``{"agent": id}``."""

    permission_classes = [IsSupervisor]

    @extend_schema(
        request=AssignSerializer, responses={200: ConversationSerializer, 409: CONFLICT}
    )
    def post(self, request, pk):
        agent = _payload(AssignSerializer, request)["agent"]
        conversation = routing.assign_conversation(
            conversation_id=pk, agent_id=agent.pk, actor=request.user
        )
        return Response(ConversationSerializer(conversation).data)


class TransferView(ApiView):
    """The assignee or a supervisor transfers it: ``{"team": id}`` (routed again there) or
    ``{"agent": id}``."""

    permission_classes = [IsPerson]

    @extend_schema(
        request=TransferSerializer, responses={200: ConversationSerializer, 409: CONFLICT}
    )
    def post(self, request, pk):
        data = _payload(TransferSerializer, request)
        conversation = routing.transfer_conversation(
            conversation_id=pk,
            actor=request.user,
            team_id=data["team"].pk if "team" in data else None,
            agent_id=data["agent"].pk if "agent" in data else None,
        )
        return Response(ConversationSerializer(conversation).data)


class RouteView(ApiView):
    """A bot (or a supervisor) routes an unassigned conversation to a team:
    ``{"team": id}``, optionally with ``skills`` (by name, as in ``inbound``) replacing its
    requirements."""

    permission_classes = [IsSupervisorOrIntegration]

    @extend_schema(
        request=RouteSerializer, responses={200: ConversationSerializer, 409: CONFLICT}
    )
    def post(self, request, pk):
        data = _payload(RouteSerializer, request)
        conversation = routing.route_to_team(
            conversation_id=pk, team_id=data["team"].pk, actor=request.user,
            requirements=data.get("skills"),
        )
        return Response(ConversationSerializer(conversation).data)


class CloseView(ApiView):
    """The assignee or a supervisor closes it."""

    permission_classes = [IsPerson]

    @extend_schema(request=None, responses={200: ConversationSerializer, 409: CONFLICT})
    def post(self, request, pk):
        conversation = routing.close_conversation(conversation_id=pk, actor=request.user)
        return Response(ConversationSerializer(conversation).data)
