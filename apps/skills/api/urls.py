from django.urls import path

from apps.skills.api import views

urlpatterns = [
    path("skills/", views.SkillListView.as_view(), name="api-skills"),
    path("skills/<id:pk>/", views.SkillDetailView.as_view(), name="api-skill"),
]
