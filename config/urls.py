from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico whatever the page links: send them to the icon's static
    URL (hashed in production, so the redirect itself is not permanent)."""

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.svg")


urlpatterns = [
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the language switch
    path("", include("apps.reports.urls")),
    path("", include("apps.simulation.urls")),
    path("", include("apps.inbox.urls")),
    path("", include("apps.webchat.urls")),
    path("", include("apps.demo.urls")),
]

# Refusals are JSON with a "detail" (api.md "Limits and refusals"), pages included.
handler400 = "apps.core.http.bad_request"
handler500 = "apps.core.http.server_error"
