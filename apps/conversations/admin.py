from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.conversations.models import Conversation, ConversationEvent, Message, Status
from apps.core.errors import DomainError
from apps.routing import services as routing


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
    model = ConversationEvent
    fields = (
        "at", "kind", "actor_kind", "actor", "actor_integration", "from_status", "to_status",
        "from_team", "to_team", "from_assignee", "to_assignee", "reason",
    )
    ordering = ("at", "id")
    verbose_name = _("history event")
    verbose_name_plural = _("history")

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
    fields = ("created_at", "sender_kind", "author", "body")
    ordering = ("created_at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """Read-mostly: conversations change only through the routing services (the inbox, the
    API, or the close action here), so every field is read-only."""

    list_display = (
        "id", "contact", "channel", "status", "team", "assignee", "preferred_agent",
        "last_activity_at",
    )
    list_filter = ("status", "team", "channel")
    list_select_related = ("contact", "team", "assignee", "preferred_agent")
    search_fields = ("contact__name", "contact__external_id")
    date_hierarchy = "created_at"
    inlines = (ConversationEventInline, MessageInline)
    actions = ("close_selected",)
    fields = (
        "contact", "channel", "status", "team", "assignee", "auto_assigned", "preferred_agent",
        "preferred_type", "created_at", "queued_at", "assigned_at", "closed_at",
        "last_activity_at", "updated_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(
            "contact", "team", "assignee", "preferred_agent"
        )

    def has_add_permission(self, request):
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
