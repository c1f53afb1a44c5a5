from django.urls import path

from apps.routing.api import views

urlpatterns = [
    path("conversations/<id:pk>/claim", views.ClaimView.as_view(), name="api-claim"),
    path("conversations/<id:pk>/assign", views.AssignView.as_view(), name="api-assign"),
    path("conversations/<id:pk>/transfer", views.TransferView.as_view(), name="api-transfer"),
    path("conversations/<id:pk>/route", views.RouteView.as_view(), name="api-route"),
    path("conversations/<id:pk>/close", views.CloseView.as_view(), name="api-close"),
]
