from django.urls import path

from apps.reports import views

urlpatterns = [path("reports/", views.reports, name="reports")]
