from django.urls import path

from apps.demo import views

urlpatterns = [path("demo/site/", views.demo_site, name="demo-site")]
