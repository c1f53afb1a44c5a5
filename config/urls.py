from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("", include("apps.inbox.urls")),
]

# Refusals are JSON with a "detail" (api.md "Limits and refusals"), pages included.
handler400 = "apps.core.http.bad_request"
handler500 = "apps.core.http.server_error"
