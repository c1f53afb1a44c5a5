from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from apps.accounts.permissions import (
    IsAdminOrIntegration,
    IsIntegration,
    IsPerson,
    ReadPersonOrIntegration,
)
from apps.conversations import selectors, waits
from apps.conversations import services as conversations
from apps.conversations.api.serializers import (
    ContactCardSerializer,
    ConversationFilterSerializer,
    ConversationSerializer,
    EventSerializer,
    HistoryBoundsSerializer,
    InboundAnswerSerializer,
    InboundSerializer,
    MessagePageSerializer,
    MessageSerializer,
    QueueAnswerSerializer,
    RatingSerializer,
    ReplySerializer,
)
from apps.conversations.models import Status
from apps.core.api import ApiView, ApiViewMixin, ConflictSerializer, error
from apps.routing.services.ratings import rate_conversation


class ConversationPagination(PageNumberPagination):
    """``page`` and ``page_size`` (1 to 200; larger sizes are capped); a ``page_size`` that
    is not a positive number is a 400."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (
            raw.isascii() and raw.isdigit() and len(raw) <= 18 and int(raw) > 0
        ):
            raise ValidationError({"page_size": [_("Must be a positive whole number.")]})
        return super().get_page_size(request)


def visible_conversation(user, pk: int, *, related: tuple[str, ...] = ()):
    """The conversation if the caller may see it; 404 otherwise (existence is not leaked)."""
    rows = selectors.conversation_list_for(user)
    if related:
        rows = rows.select_related(*related)
    conversation = rows.filter(pk=pk).first()
    if conversation is None:
        raise NotFound(_("There is no such conversation, or you cannot see it."))
    return conversation


@extend_schema_view(
    get=extend_schema(
        parameters=[ConversationFilterSerializer],
        responses={200: ConversationSerializer(many=True), 400: error(400),
                   404: error(404, "No such page.")},
    )
)
class ConversationListView(ApiViewMixin, generics.ListAPIView):
    """The conversations the caller may see, newest activity first, paginated (``page``,
    ``page_size`` up to 200). Agents see Waiting, their teams' and their own conversations;
    supervisors and administrators see all. ``ordering=queue`` lists in queue order (the
    caller's starred first, then oldest first); ``after=<id>`` continues after a row;
    ``q`` searches the contact's name and external id (closed conversations too)."""

    permission_classes = [IsPerson]
    serializer_class = ConversationSerializer
    pagination_class = ConversationPagination

    def get_queryset(self):
        filters = ConversationFilterSerializer(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        rows = selectors.conversation_list_for(self.request.user)
        if "status" in wanted:
            rows = rows.filter(status=wanted["status"])
        for name in ("team", "assignee", "contact", "preferred_agent"):
            if name in wanted:
                rows = rows.filter(**{f"{name}_id": wanted[name]})
        if wanted.get("open") is not None:
            rows = rows.exclude(status=Status.CLOSED) if wanted["open"] else rows.filter(
                status=Status.CLOSED
            )
        if wanted.get("q"):
            rows = rows.filter(selectors.search_filter(wanted["q"]))
        ordered = selectors.ordered_list(
            rows, self.request.user, ordering=wanted["ordering"], after=wanted.get("after")
        )
        if ordered is None:
            raise ValidationError(
                {"after": [_("There is no such conversation in this list: reload it.")]}
            )
        return ordered

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        waits.attach_queue_info(page)  # positions and estimates for the page at once
        return page


@extend_schema_view(
    get=extend_schema(
        responses={200: ConversationSerializer(many=True), 400: error(400),
                   404: error(404, "No such page.")},
    )
)
class OverflowListView(ApiViewMixin, generics.ListAPIView):
    """Overflow work: queued conversations of other teams whose ladder made the caller's
    teams candidates too (routing.md 9.4), oldest first, paginated; the caller may claim
    them."""

    permission_classes = [IsPerson]
    serializer_class = ConversationSerializer
    pagination_class = ConversationPagination

    def get_queryset(self):
        return selectors.overflow_work_for(self.request.user)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        waits.attach_queue_info(page)
        return page


class ConversationDetailView(ApiView):
    """One conversation the caller may see (404 otherwise); an integration sees those its
    inbound opened."""

    permission_classes = [ReadPersonOrIntegration]

    @extend_schema(responses={200: ConversationSerializer})
    def get(self, request, pk):
        return Response(ConversationSerializer(visible_conversation(request.user, pk)).data)


class MessagesView(ApiView):
    """GET: the newest ``limit`` messages (default 100, at most 200), oldest first (an
    integration: of its own conversations); ``before=<message id>`` gives the ones before it.
    The ``X-Has-Older`` header says whether older ones exist. POST: a reply from the assignee
    or a supervisor."""

    permission_classes = [ReadPersonOrIntegration]

    @extend_schema(
        parameters=[MessagePageSerializer],
        responses={200: MessageSerializer(many=True), 400: error(400)},
    )
    def get(self, request, pk):
        page = MessagePageSerializer(data=request.query_params.dict())
        page.is_valid(raise_exception=True)
        conversation = visible_conversation(request.user, pk)
        messages, older = selectors.latest_messages(
            conversation.pk, limit=page.validated_data["limit"],
            before=page.validated_data.get("before"),
        )
        response = Response(MessageSerializer(messages, many=True).data)
        response["X-Has-Older"] = "true" if older else "false"
        return response

    @extend_schema(
        request=ReplySerializer,
        responses={201: MessageSerializer, 409: error(409, "The conversation is closed.")},
    )
    def post(self, request, pk):
        serializer = ReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = conversations.post_reply(
            conversation_id=pk, author=request.user, body=serializer.validated_data["body"]
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class EventsView(ApiView):
    """The conversation's history, oldest first: who or what moved it, from where to where,
    and why. Bounded: the newest ``?limit`` events (default 100, at most 200);
    ``?before=<event id>`` gives the ones before that event."""

    permission_classes = [IsPerson]
    default_limit = 100
    max_limit = 200

    @extend_schema(
        parameters=[HistoryBoundsSerializer],
        responses={200: EventSerializer(many=True), 400: error(400)},
    )
    def get(self, request, pk):
        bounds = HistoryBoundsSerializer(data=request.query_params.dict())
        bounds.is_valid(raise_exception=True)
        limit = min(bounds.validated_data.get("limit", self.default_limit), self.max_limit)
        conversation = visible_conversation(request.user, pk)
        events = selectors.events_of(
            conversation.pk, newest=limit, before=bounds.validated_data.get("before")
        )
        return Response(EventSerializer(events, many=True).data)


class ContactCardView(ApiView):
    """Who the customer of a conversation the caller may see is: their details, the
    organization path, the preferential rule that applies now, and their other
    conversations the caller may see (newest first, at most 20)."""

    permission_classes = [IsPerson]

    @extend_schema(responses={200: ContactCardSerializer})
    def get(self, request, pk):
        conversation = visible_conversation(
            request.user, pk, related=("contact__organization",)
        )
        card = selectors.contact_card(request.user, conversation)
        return Response(ContactCardSerializer({**card, "conversation": conversation}).data)


class InboundView(ApiView):
    """A contact's message from a channel: creates the contact if new, appends to their open
    conversation (200) or opens and routes a new one (201)."""

    permission_classes = [IsAdminOrIntegration]

    @extend_schema(
        request=InboundSerializer,
        responses={201: InboundAnswerSerializer, 200: InboundAnswerSerializer},
    )
    def post(self, request):
        serializer = InboundSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        contact = data["contact"]
        conversation, _message, created = conversations.receive_inbound_message(
            external_id=contact["external_id"],
            body=data["body"],
            contact_details={k: contact[k] for k in ("name", "email", "phone") if k in contact},
            organization=contact.get("organization"),
            team=data.get("team"),
            channel=data["channel"],
            actor=request.user,
            message_id=data.get("message_id"),
            requirements=data.get("skills"),
        )
        return Response(
            {**ConversationSerializer(conversation).data,
             **waits.team_open_fields(conversation.team)},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class QueueView(ApiView):
    """Where the conversation stands, for a bot to tell the customer: status, position (1 is
    next), estimated wait in seconds (null in Waiting or while nobody in the team is
    online), whether its team is open and when it opens next. Integrations may read it for
    the conversations they opened through ``inbound``, people for those they may see."""

    permission_classes = [ReadPersonOrIntegration]

    @extend_schema(responses={200: QueueAnswerSerializer})
    def get(self, request, pk):
        conversation = selectors.conversation_for_queue(request.user, pk)
        if conversation is None:
            raise NotFound(_("There is no such conversation, or you cannot see it."))
        return Response(waits.queue_answer(conversation))


class RatingView(ApiView):
    """The customer's rating, relayed by the integration the conversation belongs to:
    ``{"score": 1-5, "comment"?}``, once, after it is closed (409 before that or a second
    time). Another integration's conversation is a 404."""

    permission_classes = [IsIntegration]

    @extend_schema(
        request=RatingSerializer,
        responses={
            201: ConversationSerializer, 400: error(400), 404: error(404),
            409: error(409, "Not closed yet, or rated already.", ConflictSerializer),
        },
    )
    def post(self, request, pk):
        data = RatingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rated = rate_conversation(
            conversation_id=pk, score=data.validated_data["score"],
            comment=data.validated_data["comment"], actor=request.user,
        )
        return Response(ConversationSerializer(rated).data, status=status.HTTP_201_CREATED)
