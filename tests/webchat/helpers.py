"""The web chat's customer socket through the real ASGI stack (WebsocketCommunicator)."""

from channels.testing import WebsocketCommunicator

from apps.webchat import services
from apps.webchat.identity import expected_hash
from config.asgi import application
from tests.inbox.helpers import receive_until  # noqa: F401  (re-exported for the tests)

SITE = "https://shop.example"


def make_webchat(*, teams=(), origins=(SITE,), **fields):
    """A web chat with its secret: ``(webchat, secret)``."""
    return services.create_webchat(
        name=fields.pop("name", "Shop"), allowed_origins=list(origins),
        teams_offered=[{"label": label, "team": team.pk} for label, team in teams], **fields,
    )


def customer_socket(key: str, *, origin: str | None = SITE, lang: str = "en",
                    address: str = "203.0.113.7"):
    headers = [(b"host", b"atende.example")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    comm = WebsocketCommunicator(application, f"/webchat/{key}/ws?lang={lang}", headers=headers)
    comm.scope["client"] = [address, 50000]
    return comm


async def welcomed(key: str, **kwargs):
    comm = customer_socket(key, **kwargs)
    ok, _ = await comm.connect(timeout=5)
    assert ok
    welcome = await comm.receive_json_from(timeout=5)
    assert welcome["type"] == "welcome", welcome
    return comm, welcome


async def hello(comm, **content):
    """Say hello; returns (session, state)."""
    await comm.send_json_to({"type": "hello", **content})
    events = await receive_until(comm, lambda e: e["type"] == "state")
    session = next(e for e in events if e["type"] == "session")
    return session, events[-1]


def identity(secret: str, external_id: str, **extra) -> dict:
    return {"externalId": external_id, "hash": expected_hash(secret, external_id), **extra}
