"""Admin messages that agree with the model they speak of.

Django's admin says "The {name} “{obj}” was added successfully." with one article and one
participle for every model, which Portuguese cannot do ("O regra preferencial ... foi
adicionado"). A ModelAdmin with this mixin names its own sentences (``AdminSentences``), so
that each language makes them agree ("A regra preferencial ... foi adicionada"); the rest of
Django's behaviour (the links, "edit it again", "add another", popups) is kept.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.admin.utils import quote
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

ADDED, CHANGED, DELETED = "added", "changed", "deleted"


@dataclass(frozen=True)
class AdminSentences:
    """A model's sentences (lazy translations): ``added``, ``changed`` and ``deleted`` take
    ``{obj}``; ``delete_selected`` names the bulk delete action; ``deleted_many`` is an
    ``ngettext_lazy(..., "count")`` with ``%(count)d``."""

    added: str
    changed: str
    deleted: str = ""
    delete_selected: str = ""
    deleted_many: str = ""


class AgreeingMessagesMixin:
    sentences: AdminSentences | None = None

    def response_add(self, request, obj, post_url_continue=None):
        request._admin_saved = (ADDED, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        request._admin_saved = (CHANGED, obj)
        return super().response_change(request, obj)

    def response_delete(self, request, obj_display, obj_id):
        request._admin_saved = (DELETED, obj_display)
        return super().response_delete(request, obj_display, obj_id)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.sentences and self.sentences.delete_selected and "delete_selected" in actions:
            function, name, _description = actions["delete_selected"]

            def delete_selected(modeladmin, request, queryset, function=function):
                if request.POST.get("post"):
                    request._admin_deleted_many = queryset.count()
                return function(modeladmin, request, queryset)

            actions["delete_selected"] = (delete_selected, name, self.sentences.delete_selected)
        return actions

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        if self.sentences and level == messages.SUCCESS:
            message = self._agreeing(request) or message
        return super().message_user(request, message, level, *args, **kwargs)

    def _agreeing(self, request):
        many = getattr(request, "_admin_deleted_many", None)
        if many is not None and self.sentences.deleted_many:
            return self.sentences.deleted_many % {"count": many}
        saved = getattr(request, "_admin_saved", None)
        if saved is None:
            return None
        kind, obj = saved
        if kind == DELETED:
            deleted = self.sentences.deleted
            return format_html(str(deleted), obj=obj) if deleted else None
        sentence = self.sentences.added if kind == ADDED else self.sentences.changed
        if self.has_change_permission(request, obj):
            opts = obj._meta
            url = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change",
                args=(quote(obj.pk),), current_app=self.admin_site.name,
            )
            shown = format_html('<a href="{}">{}</a>', url, obj)
        else:
            shown = str(obj)
        message = format_html(str(sentence), obj=shown)
        if "_continue" in request.POST or "_saveasnew" in request.POST:
            return format_html("{} {}", message, _("You may edit it again below."))
        if "_addanother" in request.POST:
            return format_html("{} {}", message, _("You may add another one below."))
        return message
