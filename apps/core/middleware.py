"""Request limits checked before any view or middleware reads the body."""

from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext as _

from apps.core.http import body_too_large, json_refusal
from apps.core.limits import MAX_REQUEST_BODY_BYTES


class RequestLimitsMiddleware(MiddlewareMixin):
    """A declared body over MAX_REQUEST_BODY_BYTES is a JSON 413 at once (DRF's parsers
    read the stream without Django's DATA_UPLOAD_MAX_MEMORY_SIZE check; bodies without a
    length are bounded by that setting, which handler400 answers with the same 413)."""

    def process_request(self, request):
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if not declared.isascii() or not declared.isdigit():
            return json_refusal(400, _("Content-Length must be a whole number of bytes."))
        if int(declared) > MAX_REQUEST_BODY_BYTES:
            return body_too_large()
        return None
