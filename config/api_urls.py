"""The API under /api/: v1 resources, the OpenAPI schema and its docs (owned by the API)."""

urlpatterns = []
