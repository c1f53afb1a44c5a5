from django.urls import path

from apps.organizations.api import views

urlpatterns = [
    path("organizations/", views.OrganizationListView.as_view(), name="api-organizations"),
    path(
        "organizations/<id:pk>/", views.OrganizationDetailView.as_view(), name="api-organization"
    ),
    path("contacts/", views.ContactListView.as_view(), name="api-contacts"),
    path("contacts/<id:pk>/", views.ContactDetailView.as_view(), name="api-contact"),
    path("preferential-rules/", views.RuleListView.as_view(), name="api-rules"),
    path("preferential-rules/<id:pk>/", views.RuleDetailView.as_view(), name="api-rule"),
]
