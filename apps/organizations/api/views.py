from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics

from apps.accounts.permissions import IsAdmin, IsAdminOrIntegration, ReadPersonWriteAdmin
from apps.conversations import visibility
from apps.core.api import ApiViewMixin, ProtectedDeleteMixin, error
from apps.core.api.pagination import BoundedListPagination
from apps.organizations.api.serializers import (
    ContactFilterSerializer,
    ContactSerializer,
    OrganizationFilterSerializer,
    OrganizationSerializer,
    RuleSerializer,
)
from apps.organizations.models import Contact, Organization, PreferentialRule


@extend_schema_view(
    get=extend_schema(
        parameters=[OrganizationFilterSerializer],
        responses={200: OrganizationSerializer(many=True), 400: error(400)},
    )
)
class OrganizationListView(ApiViewMixin, generics.ListCreateAPIView):
    """The organization tree, in tree order (GET: any person; POST: administrators)."""

    permission_classes = [ReadPersonWriteAdmin]
    serializer_class = OrganizationSerializer
    pagination_class = None

    def get_queryset(self):
        nodes = Organization.objects.prefetch_related("skill_requirements").order_by(
            "tree_id", "lft"
        )
        if self.request.method == "GET":
            filters = OrganizationFilterSerializer(data=self.request.query_params.dict())
            filters.is_valid(raise_exception=True)
            if "parent" in filters.validated_data:
                nodes = nodes.filter(parent_id=filters.validated_data["parent"])
        return nodes


@extend_schema_view(
    delete=extend_schema(responses={204: None, 409: error(409, "The node still has children.")})
)
class OrganizationDetailView(ProtectedDeleteMixin, ApiViewMixin,
                             generics.RetrieveUpdateDestroyAPIView):
    """One node (administrators). PATCH ``parent`` moves the node with its subtree (not under
    itself: 400); DELETE refuses a node that still has children (409)."""

    permission_classes = [IsAdmin]
    serializer_class = OrganizationSerializer
    queryset = Organization.objects.all()
    http_method_names = ["get", "patch", "delete", "options"]


@extend_schema_view(
    get=extend_schema(
        parameters=[ContactFilterSerializer],
        responses={200: ContactSerializer(many=True), 400: error(400)},
    )
)
class ContactListView(ApiViewMixin, generics.ListCreateAPIView):
    """Contacts (administrators and integrations), by name: at most ``?limit`` (default 100,
    at most 500) from ``?offset``, the next ones in the ``Link`` header.
    ``?external_id=`` finds one contact."""

    permission_classes = [IsAdminOrIntegration]
    serializer_class = ContactSerializer
    pagination_class = BoundedListPagination

    def get_queryset(self):
        contacts = Contact.objects.order_by("name", "id")
        own = visibility.contact_filter(self.request.user)
        if own is not None:  # an integration: the contacts of its own conversations
            contacts = contacts.filter(own)
        if self.request.method == "GET":
            filters = ContactFilterSerializer(data=self.request.query_params.dict())
            filters.is_valid(raise_exception=True)
            if "external_id" in filters.validated_data:
                contacts = contacts.filter(external_id=filters.validated_data["external_id"])
            if "organization" in filters.validated_data:
                contacts = contacts.filter(organization_id=filters.validated_data["organization"])
        return contacts


@extend_schema_view(
    delete=extend_schema(
        responses={204: None, 409: error(409, "The contact still has conversations.")}
    )
)
class ContactDetailView(ProtectedDeleteMixin, ApiViewMixin,
                        generics.RetrieveUpdateDestroyAPIView):
    """One contact (administrators). DELETE refuses a contact with conversations (409)."""

    permission_classes = [IsAdmin]
    serializer_class = ContactSerializer
    queryset = Contact.objects.all()
    http_method_names = ["get", "patch", "delete", "options"]


class RuleListView(ApiViewMixin, generics.ListCreateAPIView):
    """Preferential rules (administrators)."""

    permission_classes = [IsAdmin]
    serializer_class = RuleSerializer
    pagination_class = None
    queryset = PreferentialRule.objects.order_by("-active", "id")


class RuleDetailView(ApiViewMixin, generics.RetrieveUpdateDestroyAPIView):
    """One preferential rule (administrators)."""

    permission_classes = [IsAdmin]
    serializer_class = RuleSerializer
    queryset = PreferentialRule.objects.all()
    http_method_names = ["get", "patch", "delete", "options"]
