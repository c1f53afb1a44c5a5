from django.contrib import admin, messages
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.webhooks import failures, services
from apps.webhooks.models import Delivery


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """What was sent to each integration's webhook, and how it went. Read-only: the outbox
    writes deliveries, the workers send them; "Retry now" sends failing ones again at once."""

    # What fits a 1,366-pixel screen beside the filters; the rest is on each delivery's page.
    list_display = ("created", "integration", "type", "conversation_number", "status",
                    "error_excerpt")
    list_display_links = ("created",)
    list_filter = ("status", "type", "integration")
    list_select_related = ("integration",)
    search_fields = ("=uuid", "=conversation__id")
    ordering = ("-id",)
    actions = ("retry_now",)
    fields = (
        "uuid", "integration", "conversation", "type", "status", "attempts", "error",
        "created_at", "last_attempt_at", "next_attempt_at", "delivered_at", "body",
    )
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description=_("created"), ordering="-id")
    def created(self, obj):
        return date_format(localtime(obj.created_at), "SHORT_DATETIME_FORMAT")

    @admin.display(description=_("conversation"), ordering="conversation_id")
    def conversation_number(self, obj):
        return f"#{obj.conversation_id}" if obj.conversation_id else "—"

    @admin.display(description=_("last error"))
    def error(self, obj):
        """The stored reason in the reader's language."""
        return failures.translated(obj.last_error) or "—"

    @admin.display(description=_("last error"))
    def error_excerpt(self, obj):
        text = failures.translated(obj.last_error)
        if not text:
            return "—"
        return format_html('<span title="{}">{}</span>', text, Truncator(text).chars(40))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # viewing stays allowed (view permission); actions check their own

    @admin.action(description=_("Retry the selected deliveries now"), permissions=["view"])
    def retry_now(self, request, queryset):
        count = services.retry_deliveries(delivery_ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext("%d delivery will be retried now.", "%d deliveries will be retried now.",
                     count) % count,
            messages.SUCCESS,
        )
