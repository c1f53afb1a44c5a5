from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from apps.core.admin_messages import AdminSentences, AgreeingMessagesMixin
from apps.teams.models import Membership, RoutingSettings, Team
from apps.teams.services import team_members_changed


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ("agent",)
    fields = ("agent", "joined_at", "last_assigned_at")
    readonly_fields = ("joined_at", "last_assigned_at")
    verbose_name = _("member")
    verbose_name_plural = _("members")


@admin.register(Team)
class TeamAdmin(AgreeingMessagesMixin, admin.ModelAdmin):
    sentences = AdminSentences(
        added=_("The team “{obj}” was added."),
        changed=_("The team “{obj}” was changed."),
        deleted=_("The team “{obj}” was deleted."),
        delete_selected=_("Delete the selected teams"),
        deleted_many=ngettext_lazy("%(count)d team deleted.", "%(count)d teams deleted.",
                                   "count"),
    )
    list_display = ("name", "distribution_mode", "member_count")
    list_filter = ("distribution_mode",)
    search_fields = ("name",)
    inlines = (MembershipInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_members=Count("memberships"))

    @admin.display(description=_("members"), ordering="_members")
    def member_count(self, obj):
        return getattr(obj, "_members", None)

    def save_related(self, request, form, formsets, change):
        team = form.instance
        before = set(team.memberships.values_list("agent_id", flat=True))
        super().save_related(request, form, formsets, change)
        after = set(team.memberships.values_list("agent_id", flat=True))
        team_members_changed(team=team, agent_ids=before ^ after)


@admin.register(RoutingSettings)
class RoutingSettingsAdmin(AgreeingMessagesMixin, admin.ModelAdmin):
    """One page: the routing settings row always exists and is edited in place."""

    sentences = AdminSentences(
        added=_("The routing settings were saved."),
        changed=_("The routing settings were saved."),
    )

    fields = ("default_team",)
    autocomplete_fields = ("default_team",)

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        settings = RoutingSettings.load()
        return HttpResponseRedirect(
            reverse("admin:teams_routingsettings_change", args=[settings.pk])
        )

    def get_object(self, request, object_id, from_field=None):
        if str(object_id) == str(RoutingSettings.SINGLETON_ID):
            return RoutingSettings.load()
        return None

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
