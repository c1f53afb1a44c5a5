"""Failed sign-ins (django-axes): the answer once a username or an address is locked out,
and how long it stays so."""

from axes.helpers import get_cool_off
from django.shortcuts import render
from django.utils.translation import gettext as _

from apps.core.http import json_refusal


def cool_off_seconds(request=None) -> int:
    cool_off = get_cool_off(request)
    return int(cool_off.total_seconds()) if cool_off else 300


def lockout_detail(seconds: int) -> str:
    return _(
        "Too many failed sign-ins for this username or from this address: try again in "
        "%(minutes)s minutes."
    ) % {"minutes": max(1, round(seconds / 60))}


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: 429 with Retry-After; JSON on the API, a page elsewhere (the
    login page, the admin login)."""
    seconds = cool_off_seconds(request)
    detail = lockout_detail(seconds)
    if request.path.startswith("/api/"):
        return json_refusal(429, detail, Retry_After=seconds)
    response = render(request, "registration/locked_out.html", {"detail": detail}, status=429)
    response["Retry-After"] = str(seconds)
    return response
