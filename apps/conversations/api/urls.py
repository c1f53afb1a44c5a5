from django.urls import path

from apps.conversations.api import views

urlpatterns = [
    path("inbound", views.InboundView.as_view(), name="api-inbound"),
    path("conversations/", views.ConversationListView.as_view(), name="api-conversations"),
    path("conversations/overflow", views.OverflowListView.as_view(), name="api-overflow"),
    path(
        "conversations/<id:pk>/", views.ConversationDetailView.as_view(), name="api-conversation"
    ),
    path(
        "conversations/<id:pk>/messages",
        views.MessagesView.as_view(),
        name="api-conversation-messages",
    ),
    path(
        "conversations/<id:pk>/contact",
        views.ContactCardView.as_view(),
        name="api-conversation-contact",
    ),
    path(
        "conversations/<id:pk>/events", views.EventsView.as_view(), name="api-conversation-events"
    ),
    path("conversations/<id:pk>/queue", views.QueueView.as_view(), name="api-conversation-queue"),
    path(
        "conversations/<id:pk>/rating", views.RatingView.as_view(), name="api-conversation-rating"
    ),
]
