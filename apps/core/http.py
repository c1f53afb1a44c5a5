"""Refusals outside the API's own exception handler, all JSON with a ``detail``: a body over
the limit (413), a bad request (400), a database or broker that does not answer (503) and
anything unexpected (500). Installed as Django's error handlers (config/urls.py) and by
RequestLimitsMiddleware; the API's exception handler uses the same 503."""

import logging
import sys

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.utils.translation import gettext as _

from apps.core.limits import MAX_REQUEST_BODY_BYTES

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


class ServiceBusy(Exception):
    """Raised where the server refuses to queue more work of a kind for now (a 503)."""

    def __init__(self, detail: str, *, retry_after: int = RETRY_AFTER_SECONDS):
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


def _unavailable_types() -> tuple[type[BaseException], ...]:
    """Errors that mean a backing service did not answer (in time): the database, its
    connection pool, Redis (cache, channel layer) or the Celery broker."""
    types: list[type[BaseException]] = [OperationalError, InterfaceError, ServiceBusy]
    try:
        import redis.exceptions

        types += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    except ImportError:  # pragma: no cover - redis is a dependency
        pass
    try:
        import kombu.exceptions

        types.append(kombu.exceptions.OperationalError)
    except ImportError:  # pragma: no cover - celery brings kombu
        pass
    return tuple(types)


UNAVAILABLE = _unavailable_types()


def is_unavailable(error: BaseException | None) -> bool:
    return isinstance(error, UNAVAILABLE)


def json_refusal(status: int, detail: str, **headers) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = str(value)
    return response


def unavailable_response(error: BaseException) -> JsonResponse:
    if isinstance(error, ServiceBusy):
        detail, retry_after = error.detail, error.retry_after
    else:
        logger.warning("a backing service did not answer: %r", error)
        detail = _("The service is temporarily unavailable (the database or the message "
                   "broker did not answer in time). Try again in a few seconds.")
        retry_after = RETRY_AFTER_SECONDS
    return json_refusal(503, detail, Retry_After=retry_after)


def body_too_large() -> JsonResponse:
    return json_refusal(
        413, _("The request body is larger than 1 MiB (%(bytes)s bytes): send less.")
        % {"bytes": MAX_REQUEST_BODY_BYTES},
    )


def bad_request(request, exception=None):
    """handler400: a bad Host header, a malformed or oversized form body..."""
    if isinstance(exception, RequestDataTooBig):
        return body_too_large()
    return json_refusal(400, _("Bad request: the request could not be understood."))


def server_error(request):
    """handler500: a backing service that did not answer is a 503; anything else a 500."""
    error = sys.exc_info()[1]
    if is_unavailable(error):
        return unavailable_response(error)
    return json_refusal(500, _("Something went wrong on our side. Try again later."))
