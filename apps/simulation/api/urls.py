from django.urls import path

from apps.simulation.api import views

urlpatterns = [
    path("simulations/", views.SimulationsView.as_view(), name="api-simulations"),
    path("simulations/<id:pk>", views.SimulationView.as_view(), name="api-simulation"),
]
