from django.urls import path

from apps.webhooks.api import views

urlpatterns = [
    path(
        "integrations/<id:pk>/deliveries",
        views.DeliveryListView.as_view(),
        name="api-integration-deliveries",
    ),
]
