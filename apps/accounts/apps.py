from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    verbose_name = _("People and integrations")
    label = "accounts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from apps.accounts.services import access_changed

        def signed_out(sender, request, user, **kwargs):
            """The websockets opened with this session close (they check who they are)."""
            if user is not None and user.pk is not None:
                access_changed(agent_ids=(user.pk,), session_key=request.session.session_key)

        user_logged_out.connect(signed_out, dispatch_uid="atende-signed-out", weak=False)
