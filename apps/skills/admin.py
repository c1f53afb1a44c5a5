"""Skills in the admin: skills, agents' levels (through the service that records the
history of people), organizations' requirements, and teams' ladders (through the service
that records the history of configuration and moves the queued conversations' deadlines)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from apps.core.admin_messages import AdminSentences, AgreeingMessagesMixin
from apps.core.errors import InvalidInput
from apps.routing import services as routing
from apps.skills.models import (
    AgentSkill,
    LadderStep,
    LadderStepSkill,
    OrganizationRequirement,
    Skill,
    StepAction,
)
from apps.skills.services import skills_of


@admin.register(Skill)
class SkillAdmin(AgreeingMessagesMixin, admin.ModelAdmin):
    sentences = AdminSentences(
        added=_("The skill “{obj}” was added."),
        changed=_("The skill “{obj}” was changed."),
        deleted=_("The skill “{obj}” was deleted."),
        delete_selected=_("Delete the selected skills"),
        deleted_many=ngettext_lazy("%(count)d skill deleted.", "%(count)d skills deleted.",
                                   "count"),
    )
    list_display = ("name",)
    search_fields = ("name",)


@admin.register(AgentSkill)
class AgentSkillAdmin(admin.ModelAdmin):
    """An agent's level in a skill. Saving and deleting go through the routing service, which
    writes the history of people and lets distribution give the agent what they can now
    serve."""

    list_display = ("agent", "skill", "level")
    list_select_related = ("agent", "skill")
    list_filter = ("skill", "level")
    search_fields = ("agent__username", "agent__name", "skill__name")
    autocomplete_fields = ("agent", "skill")

    def _levels(self, agent_id: int) -> dict[int, int]:
        return {row["skill"]: row["level"] for row in skills_of(agent_id)}

    def save_model(self, request, obj, form, change):
        levels = self._levels(obj.agent_id)
        if change and "skill" in form.changed_data:
            levels.pop(form.initial.get("skill"), None)
        levels[obj.skill_id] = obj.level
        routing.set_agent_skills(agent_id=obj.agent_id, levels=levels, actor=request.user)
        saved = AgentSkill.objects.get(agent_id=obj.agent_id, skill_id=obj.skill_id)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        levels = self._levels(obj.agent_id)
        levels.pop(obj.skill_id, None)
        routing.set_agent_skills(agent_id=obj.agent_id, levels=levels, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset.order_by("agent_id"):
                self.delete_model(request, obj)


@admin.register(OrganizationRequirement)
class OrganizationRequirementAdmin(admin.ModelAdmin):
    list_display = ("organization", "skill", "min_level")
    list_select_related = ("organization", "skill")
    list_filter = ("skill",)
    search_fields = ("organization__name", "skill__name")
    autocomplete_fields = ("organization", "skill")


class LadderStepSkillInline(admin.TabularInline):
    model = LadderStepSkill
    extra = 1
    verbose_name = _("skill")
    verbose_name_plural = _("skills (drop or lower: empty means every requirement)")


class LadderStepForm(forms.ModelForm):
    class Meta:
        model = LadderStep
        fields = ("team", "position", "after_seconds", "action", "all_skills", "by",
                  "overflow_team")

    def clean(self):
        data = super().clean()
        team, position = data.get("team"), data.get("position")
        action, after = data.get("action"), data.get("after_seconds")
        if action == StepAction.LOWER and not data.get("by"):
            raise ValidationError({"by": _("Lower needs by, a whole number from 1 to 5.")})
        if action == StepAction.OVERFLOW:
            target = data.get("overflow_team")
            if target is None:
                raise ValidationError({"overflow_team": _("Overflow needs a team.")})
            if team is not None and target.pk == team.pk:
                raise ValidationError({"overflow_team": _("A team cannot overflow to itself.")})
        if team is not None and position is not None and after is not None:
            others = LadderStep.objects.filter(team=team).exclude(pk=self.instance.pk)
            if others.filter(position__lt=position, after_seconds__gt=after).exists() or (
                others.filter(position__gt=position, after_seconds__lt=after).exists()
            ):
                raise ValidationError({"after_seconds": _(
                    "Steps are taken in order of time: a step cannot come before an earlier "
                    "position's."
                )})
        return data


@admin.register(LadderStep)
class LadderStepAdmin(AgreeingMessagesMixin, admin.ModelAdmin):
    sentences = AdminSentences(
        added=_("The ladder step “{obj}” was added."),
        changed=_("The ladder step “{obj}” was changed."),
        deleted=_("The ladder step “{obj}” was deleted."),
    )
    form = LadderStepForm
    inlines = (LadderStepSkillInline,)
    list_display = ("team", "position", "after_seconds", "action", "by", "overflow_team")
    list_select_related = ("team", "overflow_team")
    list_filter = ("team", "action")
    autocomplete_fields = ("team", "overflow_team")

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        try:
            routing.ladder_changed(team=form.instance.team)
        except InvalidInput as error:  # pragma: no cover - validated by the form
            raise ValidationError(error.detail) from error

    def delete_model(self, request, obj):
        team = obj.team
        super().delete_model(request, obj)
        routing.ladder_changed(team=team)
