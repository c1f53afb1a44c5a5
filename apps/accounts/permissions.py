"""Who may call what: every API permission class, in one place.

Principals are Users (``agent``, ``supervisor``, ``admin``) or IntegrationClients
(``integration``). An integration may only use ``inbound``, ``contacts/`` (list, create),
``conversations/{id}/route``, ``rating`` and read (``conversations/{id}/``, ``messages``,
``queue``), all on its own conversations only: which are its own is the visibility rule's
business (apps.conversations.visibility; another one is a 404); every other view refuses
it.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from apps.accounts.models import is_person


def is_integration(user) -> bool:
    return bool(getattr(user, "is_integration", False)) and getattr(user, "is_authenticated", False)


class IsPerson(BasePermission):
    """Any signed-in agent, supervisor or administrator."""

    message = "Only a signed-in agent, supervisor or administrator can do this."

    def has_permission(self, request, view):
        return is_person(request.user)


class IsSupervisor(BasePermission):
    message = "Only a supervisor or an administrator can do this."

    def has_permission(self, request, view):
        return is_person(request.user) and request.user.is_supervisor


class IsAdmin(BasePermission):
    message = "Only an administrator can do this."

    def has_permission(self, request, view):
        return is_person(request.user) and request.user.is_admin


class ReadPersonWriteAdmin(BasePermission):
    """Reading for every person, writing for administrators."""

    message = "Only an administrator can change this."

    def has_permission(self, request, view):
        if not is_person(request.user):
            return False
        return request.method in SAFE_METHODS or request.user.is_admin


class IsAdminOrIntegration(BasePermission):
    message = "Only an administrator or an integration client can do this."

    def has_permission(self, request, view):
        user = request.user
        return is_integration(user) or (is_person(user) and user.is_admin)


class IsSupervisorOrIntegration(BasePermission):
    message = "Only a bot integration or a supervisor can do this."

    def has_permission(self, request, view):
        user = request.user
        return is_integration(user) or (is_person(user) and user.is_supervisor)


class IsIntegration(BasePermission):
    message = "Only an integration client can do this."

    def has_permission(self, request, view):
        return is_integration(request.user)


class ReadPersonOrIntegration(BasePermission):
    """Every person; an integration only reads (what it may see is the selectors' rule)."""

    message = "Only a signed-in agent, supervisor or administrator can do this."

    def has_permission(self, request, view):
        if is_person(request.user):
            return True
        return is_integration(request.user) and request.method in SAFE_METHODS
