"""The demo site: a shop's page with the demo web chat embedded (embedded mode or DEBUG)."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from apps.demo.webchat import DEMO_KEY, DEMO_SECRET
from apps.webchat.identity import expected_hash

# Customers the demo site "knows" (?as=maria): it signs their external id on its server.
KNOWN = {"maria": ("loja-cliente-maria", "Maria Oliveira", "maria@example.com")}


def _atende_base(request) -> str:
    """Atende as seen from the demo site: the other loopback name, so the site and the chat
    are two origins (http://localhost:PORT embeds http://127.0.0.1:PORT and back)."""
    host = request.get_host()
    name, _, port = host.rpartition(":") if ":" in host else (host, "", "")
    other = {"localhost": "127.0.0.1", "127.0.0.1": "localhost"}.get(name, name)
    return f"{request.scheme}://{other}{':' + port if port else ''}"


def demo_site(request):
    if not (settings.EMBEDDED or settings.DEBUG):
        raise Http404
    base = _atende_base(request)
    customer = None
    known = KNOWN.get(request.GET.get("as", ""))
    if known:
        external_id, name, email = known
        given_hash = expected_hash(DEMO_SECRET, external_id)
        if request.GET.get("hash") == "bad":  # the refusal, for trying it out
            given_hash = "0" * 64
        customer = {"external_id": external_id, "name": name, "email": email,
                    "hash": given_hash}
    response = render(request, "demo/site.html", {
        "script": base + reverse("webchat-embed"), "key": request.GET.get("key", DEMO_KEY),
        "customer": customer, "lang": request.GET.get("lang", ""),
    })
    ws = base.replace("http", "ws", 1)
    response._csp_update = {"script-src": [base], "connect-src": [base, ws],
                            "style-src": [base]}
    return response
