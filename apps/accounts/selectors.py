"""Reads of people."""

from django.db.models import QuerySet

from apps.accounts.models import User


def agents_overview() -> QuerySet[User]:
    """Every active person with presence and load, for the supervisor view (one query)."""
    return User.objects.filter(is_active=True).order_by("username")

