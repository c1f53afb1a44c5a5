from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from apps.core.admin_history import ReadOnlyHistoryAdmin
from apps.core.admin_messages import AdminSentences, AgreeingMessagesMixin
from apps.core.forms import SecondsField
from apps.teams.history import record_configuration_changes, record_membership_changes
from apps.teams.hours import clock, is_time_zone, parse_clock
from apps.teams.models import (
    ClosedDate,
    ConfigurationChange,
    Membership,
    OpeningHours,
    RoutingSettings,
    Team,
)
from apps.teams.services import (
    business_hours_of,
    closed_dates_of,
    delete_team,
    team_members_changed,
    time_rules_changed,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ("agent",)
    fields = ("agent", "joined_at", "last_assigned_at")
    readonly_fields = ("joined_at", "last_assigned_at")
    verbose_name = _("member")
    verbose_name_plural = _("members")


class ClockField(forms.Field):
    """A time of day as HH:MM, kept as minutes after midnight (24:00 only as a closing
    time)."""

    def __init__(self, *, end_of_day: bool = False, **kwargs):
        self.end_of_day = end_of_day
        kwargs.setdefault("widget", forms.TextInput(
            attrs={"size": 5, "maxlength": 5, "placeholder": "08:00"}
        ))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return clock(value) if isinstance(value, int) else value

    def to_python(self, value):
        value = value.strip() if isinstance(value, str) else value
        if value in self.empty_values:
            return None
        try:
            return parse_clock(value, end_of_day=self.end_of_day)
        except ValueError as error:
            raise ValidationError(str(error), code="invalid_time") from error


class OpeningHoursForm(forms.ModelForm):
    opens = ClockField(label=_("opens"))
    closes = ClockField(label=_("closes"), end_of_day=True,
                        help_text=_("24:00 for the end of the day."))

    class Meta:
        model = OpeningHours
        fields = ("weekday", "opens", "closes")

    def clean(self):
        cleaned = super().clean()
        opens, closes = cleaned.get("opens"), cleaned.get("closes")
        if opens is not None and closes is not None and closes <= opens:
            self.add_error(
                "closes",
                _(
                    "It closes before it opens: the closing time must be after the opening "
                    "time. For a shift past midnight close at 24:00 and add the rest on the "
                    "next day from 00:00."
                ),
            )
        return cleaned


class OpeningHoursFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        spans = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("DELETE") or not {"weekday", "opens", "closes"} <= set(data):
                continue
            if None in (data["opens"], data["closes"]) or data["closes"] <= data["opens"]:
                continue
            for weekday, opens, closes in spans:
                if weekday == data["weekday"] and data["opens"] < closes and opens < data["closes"]:
                    raise ValidationError(
                        _("Two opening hours of %(day)s overlap (%(a)s and %(b)s): merge them "
                          "into one.")
                        % {
                            "day": form.instance.get_weekday_display()
                            if form.instance.weekday is not None else data["weekday"],
                            "a": f"{clock(opens)}-{clock(closes)}",
                            "b": f"{clock(data['opens'])}-{clock(data['closes'])}",
                        }
                    )
            spans.append((data["weekday"], data["opens"], data["closes"]))


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    form = OpeningHoursForm
    formset = OpeningHoursFormSet
    extra = 0
    verbose_name = _("opening hours")
    verbose_name_plural = _(
        "opening hours (in the team's time zone; none: always open except closed dates)"
    )


class ClosedDateInline(admin.TabularInline):
    model = ClosedDate
    extra = 0
    verbose_name_plural = _("closed dates (holidays: closed all day whatever the hours say)")


class TeamForm(forms.ModelForm):
    first_reply_seconds = SecondsField(
        minimum=1, label=_("first reply within (seconds)"),
        help_text=Team._meta.get_field("first_reply_seconds").help_text,
    )
    offline_requeue_seconds = SecondsField(
        minimum=1, label=_("requeue after offline (seconds)"),
        help_text=Team._meta.get_field("offline_requeue_seconds").help_text,
    )

    class Meta:
        model = Team
        fields = ("name", "distribution_mode", "first_reply_seconds", "offline_requeue_seconds",
                  "timezone", "after_hours_team", "answer_target_seconds", "sticky_days")

    def clean_timezone(self):
        value = (self.cleaned_data.get("timezone") or "").strip()
        if not is_time_zone(value):
            raise ValidationError(
                _("“%(value)s” is not a time zone. Use an IANA name such as "
                  "America/Sao_Paulo or Europe/Lisbon."),
                params={"value": value},
            )
        return value

    def clean_after_hours_team(self):
        team = self.cleaned_data.get("after_hours_team")
        if team is not None and self.instance.pk and team.pk == self.instance.pk:
            raise ValidationError(_("A team cannot be its own after-hours team."))
        return team


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
    form = TeamForm
    list_display = ("name", "distribution_mode", "member_count", "first_reply_seconds",
                    "offline_requeue_seconds", "timezone")
    list_filter = ("distribution_mode",)
    search_fields = ("name",)
    autocomplete_fields = ("after_hours_team",)
    inlines = (MembershipInline, OpeningHoursInline, ClosedDateInline)
    fieldsets = (
        (None, {"fields": ("name", "distribution_mode")}),
        (_("Time rules"), {"fields": ("first_reply_seconds", "offline_requeue_seconds")}),
        (_("Business hours"), {"fields": ("timezone", "after_hours_team")}),
        (_("Floor view"), {"fields": ("answer_target_seconds",)}),
        (_("Skills"), {"fields": ("sticky_days",)}),
    )

    def delete_model(self, request, obj):
        delete_team(team=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for team in queryset:
                delete_team(team=team, actor=request.user)

    def save_model(self, request, obj, form, change):
        before = {
            field: form.initial.get(field) if change else None
            for field in ("first_reply_seconds", "offline_requeue_seconds")
        }
        super().save_model(request, obj, form, change)
        fields = [name for name in form.changed_data if name in form.base_fields]
        record_configuration_changes(
            team=obj, actor=request.user,
            changes={name: (form.initial.get(name) if change else None, getattr(obj, name))
                     for name in fields} if change else {"created": (None, {
                         name: getattr(obj, name) for name in fields})},
        )
        time_rules_changed(team=obj, before=before)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_members=Count("memberships"))

    @admin.display(description=_("members"), ordering="_members")
    def member_count(self, obj):
        return getattr(obj, "_members", None)

    def save_related(self, request, form, formsets, change):
        team = form.instance
        before = set(team.memberships.values_list("agent_id", flat=True))
        hours, dates = business_hours_of(team), closed_dates_of(team)
        super().save_related(request, form, formsets, change)
        after = set(team.memberships.values_list("agent_id", flat=True))
        record_membership_changes(
            team=team, joined=after - before, left=before - after, actor=request.user
        )
        record_configuration_changes(team=team, actor=request.user, changes={
            "business_hours": (hours, business_hours_of(team)),
            "closed_dates": (dates, closed_dates_of(team)),
        })
        team_members_changed(team=team, agent_ids=before ^ after)


@admin.register(RoutingSettings)
class RoutingSettingsAdmin(AgreeingMessagesMixin, admin.ModelAdmin):
    """One page: the routing settings row always exists and is edited in place."""

    sentences = AdminSentences(
        added=_("The routing settings were saved."),
        changed=_("The routing settings were saved."),
    )

    fields = ("default_team", "preferred_max_wait_seconds")
    autocomplete_fields = ("default_team",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record_configuration_changes(team=None, actor=request.user, changes={
            name: (form.initial.get(name), getattr(obj, name)) for name in form.changed_data
        })

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "preferred_max_wait_seconds":
            return SecondsField(
                minimum=0, label=db_field.verbose_name, help_text=db_field.help_text
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

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


@admin.register(ConfigurationChange)
class ConfigurationChangeAdmin(ReadOnlyHistoryAdmin):
    """The history of configuration: teams and routing settings, read-only."""

    list_display = ("at", "subject", "team_name", "field", "before", "after", "actor")
    list_filter = ("subject", "field", ("at", admin.DateFieldListFilter), "team")
    list_select_related = ("actor",)
    search_fields = ("team_name", "field")
    date_hierarchy = "at"
    fields = ("at", "subject", "team", "team_name", "field", "before", "after", "actor")
    readonly_fields = fields
