from django.urls import path

from apps.reports.api import views

urlpatterns = [
    path("reports/teams", views.TeamsReportView.as_view(), name="api-reports-teams"),
    path("reports/agents", views.AgentsReportView.as_view(), name="api-reports-agents"),
    path("reports/ratings", views.RatingsReportView.as_view(), name="api-reports-ratings"),
]
