from django.urls import path

from apps.webchat.api import views

urlpatterns = [
    path("webchats/", views.WebChatListView.as_view(), name="api-webchats"),
    path("webchats/<id:pk>/", views.WebChatDetailView.as_view(), name="api-webchat"),
]
