"""Answers the operations endpoints first (apps.operations.views), before the host check:
probes and scrapers address a process by its own IP, which ALLOWED_HOSTS rightly does not
list, and these answers build no URL from the Host header."""

from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext as _

from apps.core.http import json_refusal
from apps.operations.views import ROUTES


class OperationsMiddleware(MiddlewareMixin):
    def process_request(self, request):
        view = ROUTES.get(request.path_info)
        if view is None:
            return None
        if request.method not in ("GET", "HEAD"):
            response = json_refusal(405, _("Only GET is allowed here."))
            response["Allow"] = "GET, HEAD"
            return response
        return view(request)
