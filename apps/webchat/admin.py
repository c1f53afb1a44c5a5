from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.core.admin_messages import AdminSentences, AgreeingMessagesMixin
from apps.core.errors import InvalidInput
from apps.skills.selectors import parse_skill_names
from apps.webchat import services
from apps.webchat.models import OfferedTeam, WebChat


class OriginsField(forms.CharField):
    """The allowed origins, one per line."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 60})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value):
        lines = [line.strip() for line in (value or "").splitlines() if line.strip()]
        try:
            return services.clean_origins(lines)
        except InvalidInput as error:
            raise forms.ValidationError(error.detail) from None


class WebChatForm(forms.ModelForm):
    allowed_origins = OriginsField(
        label=capfirst(_("allowed origins")), required=False,
        help_text=_("The sites that may embed it, as scheme://host[:port], one per line; "
                    "any other is refused."),
    )

    class Meta:
        model = WebChat
        fields = ("name", "allowed_origins", "greeting", "color", "language", "active")


def skills_spec(text: str) -> list:
    """ "english, billing:3" as inbound's skills: names, or {"skill", "min_level"}."""
    spec = []
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        name, colon, level = (p.strip() for p in part.partition(":"))
        if not colon:
            spec.append(name)
        else:  # a level that is not a number is refused by the parser, clearly
            spec.append({"skill": name, "min_level": int(level) if level.isdigit() else level})
    return spec


class OfferedTeamForm(forms.ModelForm):
    skills = forms.CharField(
        label=_("skills required"), required=False,
        help_text=_("Skill names, with a minimum level after a colon: english, billing:3"),
    )

    class Meta:
        model = OfferedTeam
        fields = ("position", "label", "team")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["skills"] = ", ".join(
                f"{r.skill.name}:{r.min_level}" if r.min_level > 1 else r.skill.name
                for r in self.instance.required_skills.select_related("skill")
            )

    def clean_skills(self):
        try:
            return parse_skill_names(skills_spec(self.cleaned_data["skills"]))
        except InvalidInput as error:
            raise forms.ValidationError(error.detail) from None


class OfferedTeamInline(admin.TabularInline):
    model = OfferedTeam
    form = OfferedTeamForm
    extra = 0
    fields = ("position", "label", "team", "skills")


@admin.register(WebChat)
class WebChatAdmin(AgreeingMessagesMixin, admin.ModelAdmin):
    """Web chats: the key a site embeds, its allowed origins and the teams offered. The
    secret is shown once, when it is made."""

    sentences = AdminSentences(
        added=_("The web chat “{obj}” was added."),
        changed=_("The web chat “{obj}” was changed."),
    )
    form = WebChatForm
    inlines = (OfferedTeamInline,)
    list_display = ("name", "public_key", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("name", "public_key")
    readonly_fields = ("public_key", "embed_tag", "webhook", "created_at")
    actions = ("new_secret",)

    def get_fields(self, request, obj=None):
        fields = ("name", "allowed_origins", "greeting", "color", "language", "active")
        return fields if obj is None else (*fields, "public_key", "embed_tag", "webhook",
                                           "created_at")

    @admin.display(description=_("embed"))
    def embed_tag(self, obj):
        src = reverse("webchat-embed")
        return format_html(
            '<code>&lt;script src="https://ATENDE{}" data-key="{}" async&gt;&lt;/script&gt;</code>',
            src, obj.public_key,
        )

    @admin.display(description=_("webhook"))
    def webhook(self, obj):
        url = reverse("admin:accounts_integrationclient_change", args=[obj.integration_id])
        return format_html('<a href="{}">{}</a>', url, _("its integration client’s webhook"))

    def save_model(self, request, obj, form, change):
        fields = {f: form.cleaned_data[f] for f in form.Meta.fields if f in form.cleaned_data}
        if change:
            services.update_webchat(webchat=obj, **fields)
            return
        created, secret = services.create_webchat(**fields)
        obj.__dict__.update({k: v for k, v in created.__dict__.items() if k != "_state"})
        obj._state.adding = False
        self._show_secret(request, created, secret)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for inline_form in formset.forms:
            offered = inline_form.instance
            if offered.pk is None or inline_form in formset.deleted_forms:
                continue
            if "skills" in inline_form.cleaned_data:
                services.require_skills(offered=offered, levels=inline_form.cleaned_data["skills"])

    def delete_model(self, request, obj):
        services.delete_webchat(webchat=obj)

    def delete_queryset(self, request, queryset):
        for webchat in queryset:
            services.delete_webchat(webchat=webchat)

    def _show_secret(self, request, obj, secret):
        messages.success(
            request,
            _("The secret of %(name)s is %(secret)s. Copy it now: your site's server signs "
              "each customer's external id with it (hex HMAC-SHA256), and it will not be "
              "shown again.") % {"name": obj.name, "secret": secret},
        )

    @admin.action(description=_("Give the selected web chats a new secret"))
    def new_secret(self, request, queryset):
        for webchat in queryset:
            self._show_secret(request, webchat, services.renew_secret(webchat=webchat))
        self.message_user(
            request,
            ngettext("%(count)d web chat has a new secret.",
                     "%(count)d web chats have a new secret.", len(queryset))
            % {"count": len(queryset)},
        )
