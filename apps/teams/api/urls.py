from django.urls import path

from apps.teams.api import views

urlpatterns = [
    path("teams/", views.TeamListView.as_view(), name="api-teams"),
    path("teams/<id:pk>/", views.TeamDetailView.as_view(), name="api-team"),
    path("teams/<id:pk>/distribute", views.DistributeView.as_view(), name="api-team-distribute"),
    path("routing-settings", views.RoutingSettingsView.as_view(), name="api-routing-settings"),
]
