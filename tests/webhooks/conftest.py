import pytest

from apps.webhooks import services as webhooks
from tests.factories import IntegrationFactory
from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def allow_private(settings):
    """The tests' receivers listen on 127.0.0.1, which production mode refuses."""
    settings.WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def hooked(allow_private):
    """``hooked(url)``: an integration whose webhook points at ``url``; its plain secret is
    ``.secret`` (shown once, as the API and the admin show it)."""

    def make(url: str, **fields):
        integration = IntegrationFactory(**fields)
        integration.secret = webhooks.configure_webhook(integration=integration, webhook_url=url)
        return integration

    return make
