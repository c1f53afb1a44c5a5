"""Reads of the organization tree: which preferential rule applies to a contact."""

from django.db.models import Case, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When

from apps.organizations.models import Contact, PreferentialRule


def preferential_rule_for(contact: Contact) -> PreferentialRule | None:
    """The active rule on the contact, else on the nearest organization node going up to the
    root: one query over the MPTT ancestors (tree_id, lft <= node.lft, rght >= node.rght).
    A contact read with ``with_applicable_rule`` already knows which rule it is: no query
    when there is none. An unsaved contact can only inherit its organization's."""
    if hasattr(contact, "applicable_rule_id"):
        if contact.applicable_rule_id is None:
            return None
        return (
            PreferentialRule.objects.filter(pk=contact.applicable_rule_id)
            .select_related("agent", "organization", "contact")
            .first()
        )
    org = contact.organization
    if contact.pk is None and org is None:
        return None
    target = Q(contact_id=contact.pk) if contact.pk is not None else Q()
    if org is not None:
        node = Q(
            organization__tree_id=org.tree_id,
            organization__lft__lte=org.lft,
            organization__rght__gte=org.rght,
        )
        target = target | node if contact.pk is not None else node
    return (
        PreferentialRule.objects.filter(target, active=True, agent__is_active=True)
        .select_related("agent", "organization", "contact")
        .annotate(
            on_contact=Case(
                When(contact_id=contact.pk, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("-on_contact", "-organization__level")
        .first()
    )


def with_applicable_rule(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Contacts annotated with ``applicable_rule_id``: ``preferential_rule_for`` as a
    subquery of the query that reads them (same rule, same order)."""
    rules = (
        PreferentialRule.objects.filter(
            Q(contact_id=OuterRef("pk"))
            | Q(
                organization__tree_id=OuterRef("organization__tree_id"),
                organization__lft__lte=OuterRef("organization__lft"),
                organization__rght__gte=OuterRef("organization__rght"),
            ),
            active=True,
            agent__is_active=True,
        )
        .annotate(
            # A rule has exactly one target: one with a contact here is on this contact.
            on_contact=Case(
                When(contact__isnull=False, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("-on_contact", "-organization__level")
        .values("pk")[:1]
    )
    return contacts.annotate(applicable_rule_id=Subquery(rules))

