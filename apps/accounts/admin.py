from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy

from apps.accounts import services as accounts
from apps.accounts.models import AgentChange, IntegrationClient, Role, User
from apps.core.admin_history import ReadOnlyHistoryAdmin
from apps.core.admin_messages import AdminSentences, AgreeingMessagesMixin
from apps.core.admin_permissions import PermissionLabelsMixin
from apps.core.errors import InvalidInput
from apps.core.limits import MAX_CAPACITY
from apps.routing import services as routing
from apps.webhooks import services as webhooks
from apps.webhooks.targets import WebhookUrlInvalid, validate_webhook_url

# Columns the routing services own: the admin form never writes them with a plain save.
SERVICE_OWNED_FIELDS = {
    "capacity", "presence", "open_count", "last_heartbeat", "role", "is_active",
}


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


class PasswordChangeForm(AdminPasswordChangeForm):
    """The admin's "change password" through the service: the person's tokens go too."""

    def save(self, commit=True):
        if commit:
            accounts.change_password(user=self.user, password=self.cleaned_data["password1"])
        else:
            self.user.set_password(self.cleaned_data["password1"])
        return self.user


@admin.register(User)
class UserAdmin(PermissionLabelsMixin, AgreeingMessagesMixin, DjangoUserAdmin):
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
    change_password_form = PasswordChangeForm
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
            obj.created_by = request.user  # the history of people names who created them
            super().save_model(request, obj, form, change)
            return
        changed = set(form.changed_data)
        # Role and activation go through their services, which record the change.
        if "role" in changed or ("is_superuser" in changed and obj.is_superuser):
            accounts.set_role(
                agent_id=obj.pk, role=Role.ADMIN if obj.is_superuser else obj.role,
                actor=request.user,
            )
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
        if "is_active" in changed and obj.is_active:
            routing.activate_agent(agent_id=obj.pk, actor=request.user)
        if "is_active" in changed and not obj.is_active:
            routing.deactivate_agent(agent_id=obj.pk, actor=request.user)
        elif {"is_superuser", "is_staff"} & changed:
            # What the person may see changed: their open inboxes regroup at once.
            accounts.access_changed(agent_ids=(obj.pk,))
        obj.refresh_from_db(fields=[
            "open_count", "capacity", "presence", "last_heartbeat", "role", "is_active",
        ])


class IntegrationClientForm(forms.ModelForm):
    class Meta:
        model = IntegrationClient
        fields = ("name", "webhook_url", "active")

    def clean_webhook_url(self):
        url = (self.cleaned_data.get("webhook_url") or "").strip()
        if url:
            try:
                url = validate_webhook_url(url)
            except WebhookUrlInvalid as error:
                raise forms.ValidationError(error.detail) from error
        return url


@admin.register(IntegrationClient)
class IntegrationClientAdmin(AgreeingMessagesMixin, admin.ModelAdmin):
    """API clients (channel connectors, bots). The token and the webhook secret are shown
    once, when they are created."""

    sentences = AdminSentences(
        added=_("The integration client “{obj}” was added."),
        changed=_("The integration client “{obj}” was changed."),
    )

    form = IntegrationClientForm
    # What fits a 1,366-pixel screen beside the filters: the token's prefix and the dates
    # are on each client's page (and the prefix is searchable).
    list_display = ("name", "webhook_address", "state")
    list_filter = ("active", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "token_prefix", "webhook_url")
    readonly_fields = ("token_prefix", "created_at", "revoked_at", "webhook_health")
    actions = ("send_test_event", "new_webhook_secret", "revoke")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "webhook_url", "active")
        return ("name", "token_prefix", "webhook_url", "active", "webhook_health",
                "created_at", "revoked_at")

    def has_delete_permission(self, request, obj=None):
        # Revoke instead: the history keeps naming the bot that routed a conversation.
        return False

    @admin.display(description=_("webhook URL"), ordering="webhook_url")
    def webhook_address(self, obj):
        if not obj.webhook_url:
            return "—"
        return format_html('<span title="{}">{}</span>', obj.webhook_url,
                           Truncator(obj.webhook_url).chars(48))

    @admin.display(description=_("state"))
    def state(self, obj):
        """Revoked, or whether its webhook deliveries are off, going or failing."""
        if obj.revoked_at is not None:
            return _("token revoked on %(date)s") % {
                "date": date_format(localtime(obj.revoked_at), "DATE_FORMAT")}
        return self.webhook_health(obj)

    @admin.display(description=_("webhook deliveries"))
    def webhook_health(self, obj):
        if not obj.webhook_url:
            return _("no webhook")
        if not obj.active or obj.revoked_at is not None:
            return _("paused")
        if obj.webhook_failures:
            return _("failing since %(since)s (%(count)s failed attempts in a row)") % {
                "since": date_format(localtime(obj.webhook_failing_since), "DATETIME_FORMAT"),
                "count": obj.webhook_failures,
            }
        return _("ok")

    def save_model(self, request, obj, form, change):
        if change:
            # The delivery worker keeps this row's health columns: save only what the form
            # changed, through the webhook service (a new URL is checked again, resuming
            # delivers at once).
            if "name" in form.changed_data:
                obj.save(update_fields=["name"])
            webhook = {f: form.cleaned_data[f] for f in ("webhook_url", "active")
                       if f in form.changed_data}
            for field in webhook:  # the service compares with what was there before
                setattr(obj, field, form.initial[field])
            secret = webhooks.configure_webhook(integration=obj, **webhook) if webhook else None
            if secret:
                self._show_secret(request, obj, secret)
            return
        raw = IntegrationClient.new_token()
        obj.set_token(raw)
        secret = webhooks.set_new_secret(obj)
        super().save_model(request, obj, form, change)
        messages.success(
            request,
            _(
                "The token of %(name)s is %(token)s. Copy it now: it is stored hashed and "
                "will not be shown again."
            )
            % {"name": obj.name, "token": raw},
        )
        self._show_secret(request, obj, secret)

    def _show_secret(self, request, obj, secret):
        messages.success(
            request,
            _(
                "The webhook secret of %(name)s is %(secret)s. Copy it now: the receiver "
                "checks each request's X-Atende-Signature with it, and it will not be shown "
                "again."
            )
            % {"name": obj.name, "secret": secret},
        )

    @admin.action(description=_("Send a test event to the selected clients' webhooks"))
    def send_test_event(self, request, queryset):
        for client in queryset:
            try:
                webhooks.send_test_event(integration=client)
            except InvalidInput as error:
                self.message_user(request, error.detail, messages.WARNING)
            else:
                self.message_user(
                    request,
                    _("A test event is on its way to %(name)s: see its webhook deliveries.")
                    % {"name": client.name},
                    messages.SUCCESS,
                )

    @admin.action(description=_("Give the selected clients a new webhook secret"))
    def new_webhook_secret(self, request, queryset):
        for client in queryset:
            self._show_secret(request, client, webhooks.rotate_secret(integration=client))

    @admin.action(description=_("Revoke the selected clients' tokens"))
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(
            request,
            ngettext("%d token revoked.", "%d tokens revoked.", count) % count,
            messages.SUCCESS,
        )


@admin.register(AgentChange)
class AgentChangeAdmin(ReadOnlyHistoryAdmin):
    """The history of people: every change to an agent, read-only."""

    list_display = ("at", "agent", "kind", "before", "after", "actor", "cause")
    list_filter = ("kind", "cause", ("at", admin.DateFieldListFilter), "agent")
    list_select_related = ("agent", "actor")
    search_fields = ("agent__username", "agent__name")
    date_hierarchy = "at"
    fields = ("at", "agent", "kind", "before", "after", "actor", "cause")
    readonly_fields = fields
