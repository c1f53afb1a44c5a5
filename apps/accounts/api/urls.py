from django.urls import path

from apps.accounts.api import views

urlpatterns = [
    path("auth/token", views.TokenView.as_view(), name="api-token"),
    path("agents/", views.AgentListView.as_view(), name="api-agents"),
    path("agents/<id:pk>/", views.AgentDetailView.as_view(), name="api-agent"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("me/presence", views.PresenceView.as_view(), name="api-me-presence"),
    path("me/queues", views.QueuesView.as_view(), name="api-me-queues"),
    path("me/token", views.MyTokenView.as_view(), name="api-me-token"),
    path("ws-ticket", views.WsTicketView.as_view(), name="api-ws-ticket"),
    path("integrations/", views.IntegrationListView.as_view(), name="api-integrations"),
    path(
        "integrations/<id:pk>/", views.IntegrationDetailView.as_view(), name="api-integration"
    ),
]
