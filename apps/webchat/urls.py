from django.urls import path

from apps.webchat import views

urlpatterns = [
    path("webchat.js", views.embed_script, name="webchat-embed"),
    path("webchat/<str:key>/", views.chat_config, name="webchat-config"),
]
