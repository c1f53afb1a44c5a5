from django.urls import path

from apps.simulation import views

urlpatterns = [path("simulation/", views.simulation, name="simulation")]
