"""``/healthz``, ``/readyz`` and ``/metrics`` (api.md "Operations"): outside /api/v1/,
without sessions or CSRF, answered by OperationsMiddleware before anything else.

They carry nothing private (counts, team names, times). ``/metrics`` is open unless
METRICS_TOKEN is set, then it wants ``Authorization: Bearer <METRICS_TOKEN>``
(docs/operations.md: keep it on the private network either way).
"""

import hmac
import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from prometheus_client import CONTENT_TYPE_LATEST

from apps.core.http import is_unavailable, json_refusal
from apps.operations import health, metrics

logger = logging.getLogger(__name__)


def healthz(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    result = health.readiness()
    if result.ready:
        return JsonResponse({"status": "ok", "checks": result.checks})
    logger.warning("not ready: %s", ", ".join(result.failed), extra={"checks": result.checks})
    response = JsonResponse(
        {
            "status": "unavailable",
            "detail": _("Not ready: %(failed)s.") % {"failed": ", ".join(result.failed)},
            "failed": result.failed,
            "checks": result.checks,
        },
        status=503,
    )
    # Logged above, once, as a warning: Django would log every probe's 503 as an error.
    response._has_been_logged = True
    return response


def _token_ok(request) -> bool:
    expected = settings.METRICS_TOKEN
    if not expected:
        return True
    scheme, _space, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), expected.encode()
    )


def metrics_view(request):
    if not _token_ok(request):
        response = json_refusal(401, _("Metrics need the bearer token METRICS_TOKEN."))
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    try:
        body = metrics.render()
    except Exception as error:
        if is_unavailable(error):
            return json_refusal(503, _("The database or Redis did not answer."))
        raise
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


ROUTES = {"/healthz": healthz, "/readyz": readyz, "/metrics": metrics_view}
