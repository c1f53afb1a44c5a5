from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.webhooks import services
from apps.webhooks.models import Delivery


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """What was sent to each integration's webhook, and how it went. Read-only: the outbox
    writes deliveries, the workers send them; "Retry now" sends failing ones again at once."""

    list_display = (
        "created_at", "integration", "type", "conversation_id", "status", "attempts",
        "last_error", "next_attempt_at", "delivered_at",
    )
    list_filter = ("status", "type", "integration")
    list_select_related = ("integration",)
    search_fields = ("=uuid", "=conversation__id")
    ordering = ("-id",)
    actions = ("retry_now",)
    fields = (
        "uuid", "integration", "conversation", "type", "status", "attempts", "last_error",
        "created_at", "last_attempt_at", "next_attempt_at", "delivered_at", "body",
    )
    readonly_fields = fields
    show_full_result_count = False

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
