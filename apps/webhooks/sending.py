"""Sending one delivery over HTTP: an address checked just now (apps.webhooks.targets),
signed, with a deadline for the whole exchange, no redirects; only a short excerpt of a
failing answer is kept. No database access: apps.webhooks.delivery claims and records."""

import os
import time
from dataclasses import dataclass

import httpx
from django.conf import settings

from apps.accounts.models import IntegrationClient
from apps.webhooks import crypto, failures, signing, targets
from apps.webhooks.models import Delivery

ERROR_EXCERPT = 200
MAX_DRAINED = 64 * 1024
USER_AGENT = "Atende-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    error: str = ""


def _excerpt(text: str) -> str:
    return " ".join(text.split())[:ERROR_EXCERPT]


def send(client: httpx.Client, integration: IntegrationClient, delivery: Delivery) -> Outcome:
    """One attempt, outside any transaction. Never raises for what the receiver does."""
    try:
        secret = crypto.decrypt(integration.webhook_secret)
        target = targets.target_of(integration.webhook_url)
    except (crypto.SecretUnreadable, targets.TargetRefused) as error:
        return Outcome(False, _excerpt(failures.reason(failures.REFUSED, detail=error)))
    body = delivery.body.encode()
    url = httpx.URL(integration.webhook_url)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Host": url.netloc.decode("ascii"),
        "X-Atende-Event": delivery.type,
        "X-Atende-Delivery": str(delivery.uuid),
        "X-Atende-Signature": signing.sign(body, secret),
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    deadline = time.monotonic() + settings.WEBHOOK_TIMEOUT_SECONDS
    last_error = failures.NO_ADDRESS
    for address in target.addresses:
        # Connect to the address that was checked, never to a fresh resolution of the name.
        pinned = url.copy_with(host=address)
        try:
            with client.stream(
                "POST", pinned, content=body, headers=headers, extensions=extensions,
                follow_redirects=False, timeout=_timeout(),
            ) as response:
                if 200 <= response.status_code < 300:
                    _drain(response, deadline)  # so that the connection can be reused
                    return Outcome(True)
                return Outcome(False, _excerpt(failures.reason(
                    failures.HTTP, status=response.status_code,
                    body=_read_some(response, deadline),
                )))
        except httpx.ConnectError as error:
            last_error = failures.reason(failures.CANNOT_CONNECT, address=address,
                                         detail=failures.connect_detail(error))
            continue  # the next checked address, if any
        except httpx.TimeoutException:
            return Outcome(False, failures.reason(
                failures.NO_ANSWER, seconds=f"{settings.WEBHOOK_TIMEOUT_SECONDS:g}"))
        except httpx.HTTPError as error:
            return Outcome(False, _excerpt(
                failures.reason(failures.OTHER, kind=type(error).__name__, detail=error)))
    return Outcome(False, _excerpt(last_error))


def _drain(response: httpx.Response, deadline: float) -> None:
    """Read a successful answer's body (ignored) up to a bound; a longer or slower one just
    costs its connection."""
    size = 0
    try:
        for chunk in response.iter_raw():
            size += len(chunk)
            if size > MAX_DRAINED or time.monotonic() > deadline:
                break
    except httpx.HTTPError:
        pass


def _read_some(response: httpx.Response, deadline: float) -> str:
    """The start of a failing answer's body: enough to say what went wrong, never stored
    whole (and never read past the deadline)."""
    chunks, size = [], 0
    try:
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= ERROR_EXCERPT or time.monotonic() > deadline:
                break
    except httpx.HTTPError:
        pass
    return b"".join(chunks)[:ERROR_EXCERPT].decode("utf-8", "replace")


_clients: dict[int, httpx.Client] = {}


def _timeout() -> httpx.Timeout:
    seconds = settings.WEBHOOK_TIMEOUT_SECONDS
    return httpx.Timeout(seconds, connect=min(seconds, 5.0))


def http_client() -> httpx.Client:
    """This process's client (created on first use, never inherited across a fork: a child
    makes its own). Connections to receivers are kept alive from one run to the next, and
    the TLS context is built once, not per run."""
    pid = os.getpid()
    client = _clients.get(pid)
    if client is None:
        _clients.clear()  # a parent's, inherited by fork: never used here
        client = httpx.Client(
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: we connect where we checked
        )
        _clients[pid] = client
    return client


