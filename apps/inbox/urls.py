"""Pages: login, the inbox, the supervisor view (owned by the live inbox)."""

urlpatterns = []
