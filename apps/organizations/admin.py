from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from mptt.admin import DraggableMPTTAdmin

from apps.accounts.models import User
from apps.core.forms import SecondsField
from apps.organizations.models import Contact, Organization, PreferentialRule


@admin.register(Organization)
class OrganizationAdmin(DraggableMPTTAdmin):
    """The client tree. Dragging a node (or changing its parent) moves its whole subtree."""

    list_display = ("tree_actions", "indented_title", "kind", "contact_count")
    list_display_links = ("indented_title",)
    list_filter = ("kind",)
    search_fields = ("name",)
    autocomplete_fields = ("parent",)
    fields = ("name", "kind", "parent")
    expand_tree_by_default = True

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_contacts=Count("contacts"))

    @admin.display(description=_("contacts"))
    def contact_count(self, obj):
        return getattr(obj, "_contacts", None)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "external_id", "email", "phone", "organization", "created_at")
    list_select_related = ("organization",)
    search_fields = ("name", "email", "phone", "external_id")
    autocomplete_fields = ("organization",)
    list_filter = (("organization", admin.RelatedOnlyFieldListFilter),)
    readonly_fields = ("created_at",)


class PreferentialRuleForm(forms.ModelForm):
    """Says in words what is wrong with a target, before the database constraints would."""

    max_wait_seconds = SecondsField(
        minimum=0, label=_("longest wait while busy (seconds)"),
        help_text=PreferentialRule._meta.get_field("max_wait_seconds").help_text,
    )

    class Meta:
        model = PreferentialRule
        fields = ("organization", "contact", "agent", "type", "active", "max_wait_seconds")
        help_texts = {
            "organization": _(
                "The rule covers this organization, its departments and child companies "
                "(unless one of them has its own rule). Leave empty to target a contact."
            ),
            "contact": _("One client. Leave empty to target an organization."),
            "type": _(
                "Chat queue: the conversation routes normally with a star naming the agent. "
                "Automatic distribution: it goes to the agent when online, and waits for them "
                "while they are busy."
            ),
        }

    def clean(self):
        cleaned = super().clean()
        organization = cleaned.get("organization")
        contact = cleaned.get("contact")
        if "organization" in self.errors or "contact" in self.errors:
            return cleaned
        if organization and contact:
            self.add_error(
                "organization",
                _(
                    "Choose either an organization or a contact as the rule's target, not "
                    "both: clear one of the two fields."
                ),
            )
            return cleaned
        if not organization and not contact:
            self.add_error(
                "organization",
                _("Choose the rule's target: an organization or a contact."),
            )
            return cleaned
        if cleaned.get("active"):
            field, target = ("contact", contact) if contact else ("organization", organization)
            existing = (
                PreferentialRule.objects.filter(**{field: target}, active=True)
                .exclude(pk=self.instance.pk)
                .select_related("agent")
                .first()
            )
            if existing is not None:
                self.add_error(
                    field,
                    _(
                        "%(target)s already has an active rule (preferred agent %(agent)s). "
                        "Edit that rule, or save this one as inactive."
                    )
                    % {"target": target, "agent": existing.agent.display_name},
                )
        return cleaned


@admin.register(PreferentialRule)
class PreferentialRuleAdmin(admin.ModelAdmin):
    """Preferential attendance: a client's or an organization's preferred agent."""

    form = PreferentialRuleForm
    list_display = ("target_display", "target_kind", "agent", "type", "active", "updated_at")
    list_display_links = ("target_display",)
    list_filter = ("type", "active")
    list_select_related = ("organization", "contact", "agent")
    search_fields = (
        "organization__name", "contact__name", "contact__external_id", "agent__name",
        "agent__username",
    )
    autocomplete_fields = ("organization", "contact", "agent")
    fieldsets = (
        (_("Target: an organization or one contact"), {"fields": ("organization", "contact")}),
        (_("Preferred agent"), {"fields": ("agent", "type", "active", "max_wait_seconds")}),
    )

    @admin.display(description=_("target"))
    def target_display(self, obj):
        return str(obj.target)

    @admin.display(description=_("target kind"))
    def target_kind(self, obj):
        return _("contact") if obj.contact_id else _("organization")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "agent":
            kwargs["queryset"] = User.objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
