"""The web chat's public HTTP side (outside /api/v1/): the embed script and the chat's
configuration for the window. Every answer about a key checks the request's Origin against
the chat's allowed origins; refusals are JSON ``{"detail", "code"}`` and change nothing."""

from django.http import HttpResponse, JsonResponse
from django.templatetags.static import static
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from apps.core.errors import DomainError
from apps.webchat import customer as chat
from apps.webchat.errors import OriginRefused
from apps.webchat.origins import origin_allowed

# A classic script (document.currentScript works only there) that loads the window's ES
# module from the same server, whatever page embeds it.
LOADER = """(function () {
  var tag = document.currentScript;
  if (!tag || window.AtendeChat) return;
  var base = new URL(tag.src, document.baseURI).origin;
  import(base + %(module)s).then(function (m) { m.start(tag, base); });
})();
"""


@require_GET
def embed_script(request):
    """``/webchat.js``: the one script tag a site adds."""
    module = static("js/webchat/widget.js")
    body = LOADER % {"module": '"' + (module if module.startswith("/") else "/" + module) + '"'}
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _cors(response, origin: str | None):
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


@csrf_exempt
def chat_config(request, key):
    """``GET /webchat/<key>/``: the chat's name, greeting, colour, language and the teams
    offered (each open or not, and when it opens), for an allowed origin only."""
    origin = request.headers.get("Origin")
    if request.method == "OPTIONS":
        response = HttpResponse(status=204)
        response["Access-Control-Allow-Methods"] = "GET"
        response["Access-Control-Max-Age"] = "600"
        return response  # no CORS grant: the GET itself decides
    if request.method != "GET":
        detail = translation.gettext("Method not allowed.")
        return JsonResponse({"detail": detail, "code": "method"}, status=405)
    language = "pt-br" if request.GET.get("lang", "").lower().startswith("pt") else "en"
    with translation.override(language):
        try:
            webchat = chat.chat_for_key(key)
            if not origin_allowed(webchat, origin):
                raise OriginRefused(translation.gettext("This site may not use this web chat."))
            return _cors(JsonResponse(chat.config_payload(webchat)), origin)
        except DomainError as error:
            return _cors(JsonResponse(error.as_dict(), status=error.status_code), origin)
