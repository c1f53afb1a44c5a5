from django.urls import path

from apps.floor.api import views

urlpatterns = [
    path("stats/teams", views.TeamStatsView.as_view(), name="api-stats-teams"),
]
