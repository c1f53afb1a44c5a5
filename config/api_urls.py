"""The API under /api/: v1 resources, the OpenAPI schema and its docs (owned by the API).

Paths are registered exactly as api.md spells them (collections end with a slash, actions
do not); anything else under /api/ is a JSON 404."""

from django.urls import include, path, re_path, register_converter
from drf_spectacular.views import SpectacularSwaggerSplitView

from apps.core.api import IdConverter, not_found
from apps.core.api.schema import SchemaView

register_converter(IdConverter, "id")

v1 = [
    path("", include("apps.accounts.api.urls")),
    path("", include("apps.organizations.api.urls")),
    path("", include("apps.teams.api.urls")),
    path("", include("apps.conversations.api.urls")),
    path("", include("apps.routing.api.urls")),
    path("", include("apps.webhooks.api.urls")),
    path("", include("apps.floor.api.urls")),
    path("", include("apps.reports.api.urls")),
    path("", include("apps.skills.api.urls")),
    path("", include("apps.webchat.api.urls")),
    path("", include("apps.simulation.api.urls")),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    # The split view serves its script as a file: the docs obey the CSP (no inline script).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^", not_found),
]
