"""Pages: login, the inbox, the supervisor view."""

from django.contrib.auth import views as auth_views
from django.urls import path

from apps.inbox import views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("supervisor/", views.supervisor, name="supervisor"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
