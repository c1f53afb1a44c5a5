from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics

from apps.accounts.permissions import IsAdmin, ReadPersonWriteAdmin
from apps.core.api import ApiViewMixin, ProtectedDeleteMixin, error
from apps.skills.api.serializers import SkillSerializer
from apps.skills.models import Skill


class SkillListView(ApiViewMixin, generics.ListCreateAPIView):
    """Skills by name (GET: any person; POST: administrators)."""

    permission_classes = [ReadPersonWriteAdmin]
    serializer_class = SkillSerializer
    pagination_class = None
    queryset = Skill.objects.order_by("name", "id")


@extend_schema_view(
    delete=extend_schema(
        responses={204: None, 409: error(409, "A requirement or a ladder step uses it.")}
    )
)
class SkillDetailView(ProtectedDeleteMixin, ApiViewMixin, generics.RetrieveUpdateDestroyAPIView):
    """One skill (administrators). DELETE refuses a skill that a requirement or a ladder
    step uses (409); agents' levels in it go with it."""

    permission_classes = [IsAdmin]
    serializer_class = SkillSerializer
    queryset = Skill.objects.all()
    http_method_names = ["get", "patch", "delete", "options"]
