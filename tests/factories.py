import factory
from django.utils import timezone

from apps.accounts.models import IntegrationClient, Presence, Role, User
from apps.conversations.models import Conversation, ConversationEvent, Status
from apps.conversations.reasons import text
from apps.organizations.models import Contact, Organization, PreferentialRule, RuleType
from apps.teams.models import DistributionMode, Membership, Team

PASSWORD = "secret-pass-1"
_hashes: dict[str, str] = {}


def _password_hash() -> str:
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    # Keyed by the hasher in use: a test that switches PASSWORD_HASHERS must not leave a hash
    # behind that later tests (with the default hashers) cannot check.
    hasher = settings.PASSWORD_HASHERS[0]
    if hasher not in _hashes:
        _hashes[hasher] = make_password(PASSWORD)
    return _hashes[hasher]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"agent{n}")
    name = factory.LazyAttribute(lambda o: o.username.capitalize())
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    role = Role.AGENT
    capacity = 5
    presence = Presence.OFFLINE
    # Hashed once: hashing per user (PBKDF2) would dominate the suite's run time.
    password = factory.LazyFunction(lambda: _password_hash())


class AgentFactory(UserFactory):
    presence = Presence.ONLINE
    last_heartbeat = factory.LazyFunction(timezone.now)


class SupervisorFactory(AgentFactory):
    username = factory.Sequence(lambda n: f"supervisor{n}")
    role = Role.SUPERVISOR


class AdminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    role = Role.ADMIN
    is_staff = True


class IntegrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntegrationClient

    name = factory.Sequence(lambda n: f"Bot {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        token = kwargs.pop("token", None) or IntegrationClient.new_token()
        client = model_class(*args, **kwargs)
        client.set_token(token)
        client.save()
        client.raw_token = token
        return client


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")
    distribution_mode = DistributionMode.MANUAL

    @factory.post_generation
    def agents(team, create, extracted, **kwargs):
        for agent in extracted or ():
            Membership.objects.create(team=team, agent=agent)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    name = factory.Sequence(lambda n: f"Client {n}")
    external_id = factory.Sequence(lambda n: f"ext-{n}")


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PreferentialRule

    agent = factory.SubFactory(AgentFactory)
    type = RuleType.QUEUE
    active = True


class ConversationFactory(factory.django.DjangoModelFactory):
    """A raw waiting conversation (for constraint tests); routing tests use the services."""

    class Meta:
        model = Conversation

    contact = factory.SubFactory(ContactFactory)
    queued_at = factory.LazyFunction(timezone.now)


def queued_backlog(team: Team, count: int, *, prefix: str = "backlog") -> list[Conversation]:
    """A team queue made directly in bulk, as if it piled up while nobody was online (with
    the history row every conversation has)."""
    contacts = Contact.objects.bulk_create(
        Contact(external_id=f"{prefix}-{team.pk}-{i}", name=f"Client {i}") for i in range(count)
    )
    now = timezone.now()
    conversations = Conversation.objects.bulk_create(
        Conversation(contact=c, team=team, status=Status.QUEUED, queued_at=now,
                     last_activity_at=now)
        for c in contacts
    )
    ConversationEvent.objects.bulk_create(
        ConversationEvent(conversation=c, kind="queued", actor_kind="system",
                          to_status="queued", to_team=team, reason_parts=[text("backlog")])
        for c in conversations
    )
    return conversations
