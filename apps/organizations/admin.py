from django import forms, http
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _
from mptt.admin import DraggableMPTTAdmin
from mptt.exceptions import InvalidMove
from mptt.forms import MPTTAdminForm

from apps.accounts.models import User
from apps.core.admin_messages import AdminSentences, AgreeingMessagesMixin
from apps.core.forms import SecondsField
from apps.organizations.models import Contact, Organization, PreferentialRule, RuleType
from apps.organizations.rules import rule_target_errors

MOVES = {"last-child", "left", "right"}


def under_own_subtree(node: Organization, parent: Organization) -> str | None:
    """Why ``node`` cannot go under ``parent`` (None: it can)."""
    if parent.pk == node.pk:
        return gettext("“%(node)s” cannot be its own parent.") % {"node": node}
    if parent.is_descendant_of(node):
        return gettext(
            "“%(parent)s” is inside “%(node)s” (one of its descendants): a node cannot move "
            "under its own subtree. Choose a parent outside it."
        ) % {"parent": parent, "node": node}
    return None


class OrganizationForm(MPTTAdminForm):
    """The parent field accepts any node, so that choosing one inside the node's own subtree
    is refused with the reason rather than as "not one of the available choices"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "parent" in self.fields:
            self.fields["parent"].queryset = Organization.objects.all()

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        node = self.instance
        if parent is not None and node.pk:
            node.refresh_from_db(fields=["tree_id", "lft", "rght", "level"])
            reason = under_own_subtree(node, parent)
            if reason:
                raise ValidationError(reason)
        return parent


@admin.register(Organization)
class OrganizationAdmin(AgreeingMessagesMixin, DraggableMPTTAdmin):
    """The client tree. Dragging a node (or changing its parent) moves its whole subtree,
    after a confirmation when it has nodes under it; nodes that carry a preferential rule
    say so."""

    sentences = AdminSentences(
        added=_("The organization “{obj}” was added."),
        changed=_("The organization “{obj}” was changed."),
        deleted=_("The organization “{obj}” was deleted."),
        delete_selected=_("Delete the selected organizations"),
        deleted_many=ngettext_lazy(
            "%(count)d organization deleted.", "%(count)d organizations deleted.", "count"
        ),
    )
    form = OrganizationForm
    list_display = ("tree_actions", "indented_title", "kind", "rule", "contact_count")
    list_display_links = ("indented_title",)
    list_filter = ("kind",)
    search_fields = ("name",)
    autocomplete_fields = ("parent",)
    fields = ("name", "kind", "parent")
    expand_tree_by_default = True

    class Media:
        js = ("js/admin-organization-tree.js",)
        css = {"all": ("css/admin.css",)}

    def get_queryset(self, request):
        rules = PreferentialRule.objects.filter(organization=OuterRef("pk"), active=True)
        return super().get_queryset(request).annotate(
            _contacts=Count("contacts"),
            _rule_agent=Subquery(
                rules.values(name=Coalesce(NullIf("agent__name", Value("")), "agent__username"))[:1]
            ),
            _rule_type=Subquery(rules.values("type")[:1]),
        )

    @admin.display(description=_("organization"))
    def indented_title(self, item):
        return format_html(
            '<div class="tree-title" style="text-indent:{}px">{}</div>',
            item._mpttfield("level") * self.mptt_level_indent, item,
        )

    @admin.display(description=_("preferential rule"))
    def rule(self, obj):
        agent = getattr(obj, "_rule_agent", None)
        if not agent:
            return ""
        kind = RuleType(obj._rule_type).label if obj._rule_type in RuleType.values else ""
        return format_html(
            '<span class="rule-mark" data-testid="rule-mark-{}">★ {} ({})</span>',
            obj.pk, agent, kind,
        )

    @admin.display(description=_("contacts"))
    def contact_count(self, obj):
        return getattr(obj, "_contacts", None)

    def _tree_context(self, request):
        context = super()._tree_context(request)
        context["messages"] = {
            "before": gettext("move the node before this one"),
            "child": gettext("move the node under this one"),
            "after": gettext("move the node after this one"),
            "collapseTree": gettext("Collapse the tree"),
            "expandTree": gettext("Expand the tree"),
            # %(name)s and %(count)s are filled in by js/admin-organization-tree.js.
            "confirmMoveOne": ngettext(
                "Move “%(name)s” together with the %(count)s organization under it?",
                "Move “%(name)s” together with the %(count)s organizations under it?", 1,
            ),
            "confirmMoveMany": ngettext(
                "Move “%(name)s” together with the %(count)s organization under it?",
                "Move “%(name)s” together with the %(count)s organizations under it?", 2,
            ),
        }
        return context

    @transaction.atomic
    def _move_node(self, request):
        """A drag and drop (django-mptt's, with Atende's words): the node moves with its
        subtree, never under itself."""
        position = request.POST.get("position")
        rows = self.get_queryset(request)
        try:
            cut = rows.get(pk=request.POST.get("cut_item"))
            target = rows.get(pk=request.POST.get("pasted_on"))
        except (Organization.DoesNotExist, TypeError, ValueError):
            cut = target = None
        if position not in MOVES or cut is None:
            self.message_user(
                request, gettext("That move could not be understood: reload and try again."),
                level=messages.ERROR,
            )
            return http.HttpResponse("FAIL, unknown move.")
        if not self.has_change_permission(request, cut):
            self.message_user(request, gettext("You may not change organizations."),
                              level=messages.ERROR)
            return http.HttpResponse("FAIL, no permission.")
        new_parent = target if position == "last-child" else target.parent
        reason = under_own_subtree(cut, new_parent) if new_parent is not None else None
        if reason:
            self.message_user(request, reason, level=messages.ERROR)
            return http.HttpResponse("FAIL, invalid move.")
        before = self.get_data_before_update(request, cut, target)
        try:
            Organization._tree_manager.move_node(cut, target, position)
        except InvalidMove as error:
            self.message_user(request, str(error), level=messages.ERROR)
            return http.HttpResponse("FAIL, invalid move.")
        self.log_change(
            request, cut, self.get_move_node_change_message(request, cut, target, before)
        )
        moved = cut.get_descendant_count()
        self.message_user(
            request,
            ngettext(
                "“%(name)s” moved, with the %(count)s organization under it.",
                "“%(name)s” moved, with the %(count)s organizations under it.", moved,
            ) % {"name": cut, "count": moved}
            if moved
            else gettext("“%(name)s” moved.") % {"name": cut},
            level=messages.SUCCESS,
        )
        return http.HttpResponse("OK, moved.")


@admin.register(Contact)
class ContactAdmin(AgreeingMessagesMixin, admin.ModelAdmin):
    sentences = AdminSentences(
        added=_("The contact “{obj}” was added."),
        changed=_("The contact “{obj}” was changed."),
        deleted=_("The contact “{obj}” was deleted."),
        delete_selected=_("Delete the selected contacts"),
        deleted_many=ngettext_lazy(
            "%(count)d contact deleted.", "%(count)d contacts deleted.", "count"
        ),
    )
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
        if "organization" in self.errors or "contact" in self.errors:
            return cleaned
        errors = rule_target_errors(
            organization=cleaned.get("organization"), contact=cleaned.get("contact"),
            active=bool(cleaned.get("active")), rule_id=self.instance.pk,
        )
        for field, message in errors.items():
            self.add_error(field, message)
        return cleaned


@admin.register(PreferentialRule)
class PreferentialRuleAdmin(AgreeingMessagesMixin, admin.ModelAdmin):
    """Preferential attendance: a client's or an organization's preferred agent."""

    sentences = AdminSentences(
        added=_("The preferential rule “{obj}” was added."),
        changed=_("The preferential rule “{obj}” was changed."),
        deleted=_("The preferential rule “{obj}” was deleted."),
        delete_selected=_("Delete the selected preferential rules"),
        deleted_many=ngettext_lazy(
            "%(count)d preferential rule deleted.", "%(count)d preferential rules deleted.",
            "count",
        ),
    )

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
