from django.contrib import admin, messages
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.conversations.models import Conversation, ConversationEvent, Message, Status
from apps.core.errors import DomainError
from apps.routing import services as routing


def with_seconds(moment) -> str:
    """A date and time to the second, in the reader's format (history is read by seconds)."""
    if moment is None:
        return "-"
    local = timezone.localtime(moment)
    return f"{formats.date_format(local, 'SHORT_DATE_FORMAT')} {local:%H:%M:%S}"


def placement_text(status, team, assignee) -> str:
    parts = [str(Status(status).label) if status in Status.values else status]
    parts += [str(x) for x in (team, assignee) if x is not None]
    return " · ".join(parts)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ConversationEventInline(ReadOnlyInline):
    """The history, one readable line per move: when (to the second), what, who, from where
    to where, and why (the reason gets the room it needs)."""

    model = ConversationEvent
    fields = ("when", "kind", "who", "moved", "reason")
    ordering = ("at", "id")
    verbose_name = _("history event")
    verbose_name_plural = _("history")

    @admin.display(description=_("when"))
    def when(self, event):
        return with_seconds(event.at)

    @admin.display(description=_("done by"))
    def who(self, event):
        person = event.actor or event.actor_integration
        kind = event.get_actor_kind_display()
        return f"{person} ({kind})" if person else kind

    @admin.display(description=_("from → to"))
    def moved(self, event):
        after = placement_text(event.to_status, event.to_team, event.to_assignee)
        if not event.from_status:
            return after
        before = placement_text(event.from_status, event.from_team, event.from_assignee)
        return f"{before} → {after}"

    @admin.display(description=_("reason"))
    def reason(self, event):
        return event.reason

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "actor", "actor_integration", "from_team", "to_team", "from_assignee",
                "to_assignee",
            )
        )


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("sent", "sender_kind", "author", "body")
    ordering = ("created_at", "id")
    verbose_name = _("message")
    verbose_name_plural = _("messages")

    @admin.display(description=_("sent at"))
    def sent(self, message):
        return with_seconds(message.created_at)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """Read-mostly: conversations change only through the routing services (the inbox, the
    API, or the close action here), so the page is a view (no Save buttons)."""

    class Media:
        css = {"all": ("css/admin.css",)}

    list_display = (
        "id", "contact", "channel", "status", "team", "assignee", "preferred_agent",
        "rating_score", "last_activity",
    )
    list_filter = ("status", "team", "channel", "rating_score")
    list_select_related = ("contact", "team", "assignee", "preferred_agent")
    search_fields = ("contact__name", "contact__external_id")
    date_hierarchy = "created_at"
    inlines = (ConversationEventInline, MessageInline)
    actions = ("close_selected",)
    fields = (
        "contact", "channel", "status", "team", "assignee", "auto_assigned", "preferred_agent",
        "preferred_type", "created", "queued", "assigned", "first_reply", "closed",
        "last_activity", "rating_score", "rating_comment", "rated",
    )
    readonly_fields = fields

    @admin.display(description=_("first reply at"))
    def first_reply(self, conversation):
        return with_seconds(conversation.first_reply_at)

    @admin.display(description=_("rated at"), ordering="rated_at")
    def rated(self, conversation):
        return with_seconds(conversation.rated_at)

    @admin.display(description=_("created at"))
    def created(self, conversation):
        return with_seconds(conversation.created_at)

    @admin.display(description=_("queued at"))
    def queued(self, conversation):
        return with_seconds(conversation.queued_at)

    @admin.display(description=_("assigned at"))
    def assigned(self, conversation):
        return with_seconds(conversation.assigned_at)

    @admin.display(description=_("closed at"))
    def closed(self, conversation):
        return with_seconds(conversation.closed_at)

    @admin.display(description=_("last activity at"), ordering="last_activity_at")
    def last_activity(self, conversation):
        return with_seconds(conversation.last_activity_at)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(
            "contact", "team", "assignee", "preferred_agent"
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Close the selected conversations"))
    def close_selected(self, request, queryset):
        closed = 0
        refused = []
        for pk in queryset.exclude(status=Status.CLOSED).values_list("pk", flat=True):
            try:
                routing.close_conversation(conversation_id=pk, actor=request.user)
            except DomainError as error:
                refused.append(f"#{pk}: {error.detail}")
            else:
                closed += 1
        self.message_user(
            request,
            ngettext("%d conversation closed.", "%d conversations closed.", closed) % closed,
            messages.SUCCESS,
        )
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)
