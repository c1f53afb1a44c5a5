"""The demo's web chat and the demo site that embeds it (``make run``; docs/webchat.md).

The key and the secret are fixed, like the demo integration's token, so that the demo site
can sign an identified customer's external id the way a real site's server would. The site
is served by Atende itself on another origin: http://localhost:PORT/demo/site/ embeds the
chat from http://127.0.0.1:PORT, so the browser treats the chat as another site's, as it
would be in production."""

from apps.teams.models import Team
from apps.webchat import services
from apps.webchat.models import WebChat
from apps.webhooks import crypto

DEMO_KEY = "wc_demo-site-key"
DEMO_SECRET = "wcsec_demo-site-secret"
DEMO_ORIGINS = ["http://localhost:8000", "http://127.0.0.1:8000"]
# label, team
DEMO_CHOICES = [("Quero comprar", "Vendas"), ("Preciso de ajuda", "Suporte"),
                ("Boletos e pagamentos", "Financeiro")]


def demo_webchat(origins=DEMO_ORIGINS) -> WebChat:
    """The demo web chat, made once (its origins and choices put back as the demo has them)."""
    teams = {t.name: t.pk for t in Team.objects.filter(name__in=[n for _l, n in DEMO_CHOICES])}
    choices = [{"label": label, "team": teams[name]} for label, name in DEMO_CHOICES
               if name in teams]
    webchat = WebChat.objects.filter(public_key=DEMO_KEY).first()
    if webchat is None:
        webchat, _secret = services.create_webchat(
            name="Loja Exemplo", teams_offered=choices, allowed_origins=list(origins),
            greeting="Olá! Como podemos ajudar?",
        )
        webchat.public_key = DEMO_KEY
        webchat.secret = crypto.encrypt(DEMO_SECRET)
        webchat.save(update_fields=["public_key", "secret"])
        return webchat
    return services.update_webchat(
        webchat=webchat, allowed_origins=sorted(set(webchat.allowed_origins) | set(origins)),
        teams_offered=choices,
    )
