from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy

from apps.accounts.models import IntegrationClient, User
from apps.core.admin_messages import AdminSentences, AgreeingMessagesMixin
from apps.core.limits import MAX_CAPACITY
from apps.routing import services as routing

# Columns the routing services own: the admin form never writes them with a plain save.
SERVICE_OWNED_FIELDS = {"capacity", "presence", "open_count", "last_heartbeat"}


class CapacityBoundsMixin:
    def clean_capacity(self):
        capacity = self.cleaned_data.get("capacity")
        if capacity is not None and capacity > MAX_CAPACITY:
            raise forms.ValidationError(
                _("Capacity must be a whole number from 0 to %(max)s."),
                params={"max": MAX_CAPACITY},
            )
        return capacity


class AgentChangeForm(CapacityBoundsMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


class AgentCreationForm(CapacityBoundsMixin, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "name", "email", "role", "capacity")


@admin.register(User)
class UserAdmin(AgreeingMessagesMixin, DjangoUserAdmin):
    """Agents, supervisors and administrators.

    Capacity and presence changes go through the routing services (raising a limit lets
    distribution run; going offline releases reservations); the load counter is read-only.
    """

    sentences = AdminSentences(
        added=_("The user “{obj}” was added."),
        changed=_("The user “{obj}” was changed."),
        deleted=_("The user “{obj}” was deleted."),
        delete_selected=_("Delete the selected users"),
        deleted_many=ngettext_lazy("%(count)d user deleted.", "%(count)d users deleted.",
                                   "count"),
    )
    form = AgentChangeForm
    add_form = AgentCreationForm
    list_display = (
        "username", "name", "role", "presence", "open_count", "capacity", "team_names",
        "is_active",
    )
    list_filter = ("role", "presence", "is_active", "teams")
    search_fields = ("username", "name", "email")
    ordering = ("username",)
    readonly_fields = ("open_count", "team_names", "last_heartbeat", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        # One name: Atende shows ``name`` everywhere (first and last names are not asked for).
        (_("Person"), {"fields": ("name", "email")}),
        (
            _("Routing"),
            {
                "fields": (
                    "role", "capacity", "presence", "open_count", "team_names", "last_heartbeat",
                )
            },
        ),
        (
            _("Permissions"),
            {
                "classes": ("collapse",),
                "fields": (
                    "is_active", "is_staff", "is_superuser", "groups", "user_permissions",
                ),
            },
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username", "name", "email", "role", "capacity", "password1", "password2",
                ),
            },
        ),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("teams")

    @admin.display(description=_("teams"))
    def team_names(self, obj):
        if obj.pk is None:
            return "-"
        return ", ".join(team.name for team in obj.teams.all()) or "-"

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        changed = set(form.changed_data)
        plain = [
            field.name
            for field in obj._meta.concrete_fields
            if field.name in changed and field.name not in SERVICE_OWNED_FIELDS
        ]
        if "is_superuser" in plain:
            plain.append("role")  # User.save() makes a superuser an administrator
        if plain:
            obj.save(update_fields=plain)
        if "capacity" in changed:
            routing.set_capacity(agent_id=obj.pk, capacity=obj.capacity, actor=request.user)
        if "presence" in changed:
            routing.set_presence(agent=obj, status=obj.presence, actor=request.user)
        if "is_active" in changed and not obj.is_active:
            routing.deactivate_agent(agent_id=obj.pk, actor=request.user)
        obj.refresh_from_db(fields=["open_count", "capacity", "presence", "last_heartbeat"])


@admin.register(IntegrationClient)
class IntegrationClientAdmin(AgreeingMessagesMixin, admin.ModelAdmin):
    """API clients (channel connectors, bots). The token is shown once, when it is created."""

    sentences = AdminSentences(
        added=_("The integration client “{obj}” was added."),
        changed=_("The integration client “{obj}” was changed."),
    )

    list_display = ("name", "token_prefix", "created_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "token_prefix")
    readonly_fields = ("token_prefix", "created_at", "revoked_at")
    actions = ("revoke",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name",)
        return ("name", "token_prefix", "created_at", "revoked_at")

    def has_delete_permission(self, request, obj=None):
        # Revoke instead: the history keeps naming the bot that routed a conversation.
        return False

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        raw = IntegrationClient.new_token()
        obj.set_token(raw)
        super().save_model(request, obj, form, change)
        messages.success(
            request,
            _(
                "The token of %(name)s is %(token)s. Copy it now: it is stored hashed and "
                "will not be shown again."
            )
            % {"name": obj.name, "token": raw},
        )

    @admin.action(description=_("Revoke the selected clients' tokens"))
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(
            request,
            ngettext("%d token revoked.", "%d tokens revoked.", count) % count,
            messages.SUCCESS,
        )
