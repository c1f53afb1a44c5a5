from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from apps.accounts.models import IntegrationClient
from apps.accounts.permissions import IsAdmin
from apps.core.api import ApiView, error
from apps.webhooks import selectors
from apps.webhooks.api.serializers import DeliveryFilterSerializer, DeliverySerializer


class DeliveryListView(ApiView):
    """An integration's latest webhook deliveries, newest first: at most ``?limit`` (default
    50, at most 200), ``?status=`` to filter, ``?before=<cursor>`` for older ones."""

    permission_classes = [IsAdmin]

    @extend_schema(parameters=[DeliveryFilterSerializer],
                   responses={200: DeliverySerializer(many=True),
                              400: error(400, "A filter that is not valid.")})
    def get(self, request, pk):
        filters = DeliveryFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        if not IntegrationClient.objects.filter(pk=pk).exists():
            raise NotFound(_("There is no such integration."))
        rows = selectors.latest_deliveries(pk, **filters.validated_data)
        return Response(DeliverySerializer(rows, many=True).data)
