"""What makes a preferential rule valid, said once for the admin's form and the API."""

from django.utils.translation import gettext as _

from apps.organizations.models import Contact, Organization, PreferentialRule


def rule_target_errors(
    *, organization: Organization | None, contact: Contact | None, active: bool,
    rule_id: int | None = None,
) -> dict[str, str]:
    """The errors of a rule's target, by field (empty: valid): exactly one target, and at
    most one active rule per target (``rule_id``: the rule being edited)."""
    if organization is not None and contact is not None:
        return {"organization": _(
            "Choose either an organization or a contact as the rule's target, not both: "
            "clear one of the two fields."
        )}
    if organization is None and contact is None:
        return {"organization": _("Choose the rule's target: an organization or a contact.")}
    if not active:
        return {}
    field, target = ("contact", contact) if contact is not None else ("organization", organization)
    existing = (
        PreferentialRule.objects.filter(**{field: target}, active=True)
        .exclude(pk=rule_id).select_related("agent").first()
    )
    if existing is None:
        return {}
    return {field: _(
        "%(target)s already has an active rule (preferred agent %(agent)s). Edit that rule, "
        "or save this one as inactive."
    ) % {"target": target, "agent": existing.agent.display_name}}
