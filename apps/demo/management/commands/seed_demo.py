"""Demo data: organizations, teams of every mode, agents, rules and conversations in every state.

Idempotent: people, teams, organizations, contacts and rules are found by stable keys
(usernames, names, external ids) before anything is created, and the conversations are
only made when no demo contact has any yet. Conversations are made the way production
makes them: through the intake and routing services.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.accounts.models import IntegrationClient, Presence, Role, User
from apps.conversations.models import Conversation, Status
from apps.conversations.services import post_reply, receive_inbound_message
from apps.demo.webchat import DEMO_KEY, demo_webchat
from apps.organizations.models import (
    Contact,
    Organization,
    OrganizationKind,
    PreferentialRule,
    RuleType,
)
from apps.routing import services as routing
from apps.routing.invariants import check_invariants
from apps.teams.config_cache import configuration_changed
from apps.teams.models import DistributionMode, Membership, RoutingSettings, Team
from apps.webhooks import crypto
from apps.webhooks import services as webhooks
from apps.webhooks.targets import WebhookUrlInvalid

HOST = "127.0.0.1"
PORT = 8000  # `make run`'s defaults; it passes its HOST and PORT through
PASSWORD = "atende123"
DEMO_PREFIX = "demo-"
# The demo channel connector's token: fixed so that the printed example always works. Demo
# data is for embedded mode; a real integration gets a random token (shown once).
DEMO_INTEGRATION = "Demo WhatsApp connector"
DEMO_INTEGRATION_TOKEN = "int_demo-whatsapp-connector-token"
# Its webhook: `manage.py webhook_receiver` listens there and checks signatures with the
# secret (fixed, like the token, so that the receiver knows it without being told). The
# webhook is left off: nothing listens there until someone starts the receiver, and an
# integration whose deliveries fail from the first minute looks broken (docs/webhooks.md).
DEMO_WEBHOOK_PORT = 8001
DEMO_WEBHOOK_URL = f"http://127.0.0.1:{DEMO_WEBHOOK_PORT}/atende"
DEMO_WEBHOOK_SECRET = "whsec_demo-webhook-secret"

# username, name, role, capacity
PEOPLE = [
    ("ana", "Ana Souza", Role.AGENT, 5),
    ("bruno", "Bruno Lima", Role.AGENT, 5),
    ("carla", "Carla Mendes", Role.AGENT, 5),
    ("diego", "Diego Rocha", Role.AGENT, 1),
    ("elisa", "Elisa Prado", Role.AGENT, 4),
    ("fabio", "Fábio Nunes", Role.AGENT, 5),
    ("sofia", "Sofia Martins", Role.SUPERVISOR, 10),
]

# team, mode, members
TEAMS = [
    ("Vendas", DistributionMode.SEQUENTIAL, ["ana", "bruno"]),
    ("Suporte", DistributionMode.CAPACITY, ["carla", "elisa"]),
    ("Financeiro", DistributionMode.MANUAL, ["diego", "fabio"]),
]
DEFAULT_TEAM = "Suporte"
# The demo's teams work in Brazil: their opening hours, closed dates and reports' days are
# Sao Paulo's.
TEAM_TIMEZONE = "America/Sao_Paulo"

# name, kind, parent name
ORGANIZATIONS = [
    ("Acme Corp", OrganizationKind.ORGANIZATION, None),
    ("Acme Financeiro", OrganizationKind.DEPARTMENT, "Acme Corp"),
    ("Acme Suporte", OrganizationKind.DEPARTMENT, "Acme Corp"),
    ("Globex", OrganizationKind.ORGANIZATION, None),
    ("Globex Brasil", OrganizationKind.ORGANIZATION, "Globex"),
    ("Globex Brasil Compras", OrganizationKind.DEPARTMENT, "Globex Brasil"),
    ("Initech", OrganizationKind.ORGANIZATION, None),
]

# external id (without prefix), name, email, phone, organization name
CONTACTS = [
    ("joao", "João Pereira", "joao@acme.example", "+55 11 90000-0001", "Acme Financeiro"),
    ("lucia", "Lúcia Alves", "lucia@acme.example", "+55 11 90000-0002", "Acme Suporte"),
    ("pedro", "Pedro Gomes", "pedro@acme.example", "+55 11 90000-0003", "Acme Corp"),
    ("helena", "Helena Dias", "helena@globex.example", "+55 21 90000-0004",
     "Globex Brasil Compras"),
    ("marina", "Marina Costa", "marina@initech.example", "+55 31 90000-0005", "Initech"),
    ("rafael", "Rafael Teixeira", "rafael@initech.example", "+55 31 90000-0006", "Initech"),
    ("tiago", "Tiago Ramos", "tiago@example.com", "+55 41 90000-0007", None),
    ("vera", "Vera Campos", "vera@example.com", "+55 41 90000-0008", None),
    ("bianca", "Bianca Freitas", "bianca@example.com", "+55 51 90000-0009", None),
    ("caio", "Caio Moreira", "caio@example.com", "+55 51 90000-0010", None),
    ("denise", "Denise Barros", "denise@example.com", "+55 61 90000-0011", None),
    ("eduardo", "Eduardo Pires", "eduardo@example.com", "+55 61 90000-0012", None),
    ("flavia", "Flávia Castro", "flavia@example.com", "+55 71 90000-0013", None),
    ("gustavo", "Gustavo Reis", "gustavo@example.com", "+55 71 90000-0014", None),
]

# (organization name or None, contact key or None, agent, type, active)
RULES = [
    ("Acme Corp", None, "diego", RuleType.AUTO, True),
    ("Globex", None, "carla", RuleType.QUEUE, True),
    (None, "marina", "elisa", RuleType.QUEUE, True),
    (None, "rafael", "bruno", RuleType.AUTO, True),
    ("Initech", None, "ana", RuleType.AUTO, False),
]


class Command(BaseCommand):
    help = "Create demo data (idempotent): run it as often as you like."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true",
            help="Seed even in production mode (DATABASE_URL and REDIS_URL set).",
        )
        parser.add_argument(
            "--host", default=HOST,
            help="The address the server listens on, for the addresses printed at the end.",
        )
        parser.add_argument(
            "--port", type=int, default=PORT,
            help="The port the server listens on: for the addresses printed at the end; the "
                 "demo web chat allows the demo site there.",
        )

    def handle(self, *args, **options):
        if not settings.EMBEDDED and not options["force"]:
            # The demo's logins (admin / atende123) and its fixed integration token would be
            # a way in to any real deployment.
            raise CommandError(
                "seed_demo creates logins with a published password and is meant for "
                "embedded mode; this is production mode (DATABASE_URL and REDIS_URL are "
                "set). Run it with --force to seed anyway."
            )
        with transaction.atomic():
            people = self._people()
            teams = self._teams(people)
            organizations = self._organizations()
            contacts = self._contacts(organizations)
            self._rules(organizations, contacts, people)
            integration = self._integration()
        if Conversation.objects.filter(contact__external_id__startswith=DEMO_PREFIX).exists():
            self.stdout.write("Demo conversations exist already: left as they are.")
        else:
            self._conversations(people, teams, contacts, integration)
        # After the demo's own history: only what happens from now on goes out.
        self._webhook(integration)
        self._default_team(teams)
        port = options["port"]
        demo_webchat([f"http://localhost:{port}", f"http://127.0.0.1:{port}"])
        problems = check_invariants()
        for problem in problems:
            self.stderr.write(self.style.WARNING(f"invariant: {problem}"))
        host = options["host"]
        if host in ("0.0.0.0", "::", ""):  # listening everywhere: this machine is one of them
            host = "127.0.0.1"
        elif ":" in host and not host.startswith("["):
            host = f"[{host}]"
        self._print_logins(f"http://{host}:{options['port']}", port)

    # ------------------------------------------------------------------ reference data

    def _people(self) -> dict[str, User]:
        people = {}
        for username, name, role, capacity in PEOPLE:
            people[username] = self._user(username, name=name, role=role, capacity=capacity)
        people["admin"] = self._user(
            "admin", name="Admin", role=Role.ADMIN, capacity=5, is_staff=True, is_superuser=True
        )
        return people

    def _user(self, username: str, **fields) -> User:
        user, created = User.objects.get_or_create(
            username=username, defaults={**fields, "email": f"{username}@atende.example"}
        )
        if created:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
            self.stdout.write(f"created user {username}")
        return user

    def _teams(self, people: dict[str, User]) -> dict[str, Team]:
        teams = {}
        for name, mode, members in TEAMS:
            team, _created = Team.objects.get_or_create(
                name=name, defaults={"distribution_mode": mode, "timezone": TEAM_TIMEZONE}
            )
            for username in members:
                Membership.objects.get_or_create(team=team, agent=people[username])
            teams[name] = team
        return teams

    def _organizations(self) -> dict[str, Organization]:
        nodes: dict[str, Organization] = {}
        for name, kind, parent_name in ORGANIZATIONS:
            parent = nodes[parent_name] if parent_name else None
            node = Organization.objects.filter(name=name, parent=parent).first()
            if node is None:
                node = Organization.objects.create(name=name, kind=kind, parent=parent)
            nodes[name] = node
        return nodes

    def _contacts(self, organizations: dict[str, Organization]) -> dict[str, Contact]:
        contacts = {}
        for key, name, email, phone, organization in CONTACTS:
            contact, _created = Contact.objects.get_or_create(
                external_id=DEMO_PREFIX + key,
                defaults={
                    "name": name,
                    "email": email,
                    "phone": phone,
                    "organization": organizations[organization] if organization else None,
                },
            )
            contacts[key] = contact
        return contacts

    def _rules(self, organizations, contacts, people) -> None:
        for org_name, contact_key, agent, rule_type, active in RULES:
            target = (
                {"organization": organizations[org_name]}
                if org_name
                else {"contact": contacts[contact_key]}
            )
            if PreferentialRule.objects.filter(**target).exists():
                continue  # the administrator may have edited it since: leave it alone
            PreferentialRule.objects.create(
                **target, agent=people[agent], type=rule_type, active=active
            )

    def _integration(self) -> IntegrationClient:
        client = IntegrationClient.objects.filter(name=DEMO_INTEGRATION).first()
        if client is None:
            client = IntegrationClient(name=DEMO_INTEGRATION)
            client.set_token(DEMO_INTEGRATION_TOKEN)
            client.save()
            self.stdout.write(f"created integration {DEMO_INTEGRATION}")
        return client

    def _webhook(self, integration: IntegrationClient) -> None:
        """Point the demo integration at the demo receiver, switched off, once (an
        administrator may change, switch on or clear it later: it has a secret by then, and
        is left alone). Nothing listens there until someone starts the receiver."""
        if integration.webhook_secret:
            return
        try:
            webhooks.configure_webhook(
                integration=integration, webhook_url=DEMO_WEBHOOK_URL, active=False,
                save=False,
            )
        except WebhookUrlInvalid as error:
            self.stdout.write(f"demo webhook not set: {error.detail}")
            return
        integration.webhook_secret = crypto.encrypt(DEMO_WEBHOOK_SECRET)
        integration.save(update_fields=["webhook_url", "webhook_secret", "active"])
        self.stdout.write(f"demo integration's webhook (off): {DEMO_WEBHOOK_URL}")

    def _default_team(self, teams: dict[str, Team]) -> None:
        settings = RoutingSettings.load()
        if settings.default_team_id is None:
            settings.default_team = teams[DEFAULT_TEAM]
            settings.save(update_fields=["default_team"])

    # ------------------------------------------------------------------ conversations

    def _conversations(self, people, teams, contacts, integration) -> None:
        """Every state, made through the services in an order that makes each one happen."""

        def write(key, body, team=None):
            conversation, _message, _created = receive_inbound_message(
                external_id=DEMO_PREFIX + key, body=body, team=team, channel=channel_of(key),
                actor=integration,
            )
            return conversation

        def channel_of(key):
            return "whatsapp" if len(key) % 2 else "webchat"

        for username in ("bruno", "carla", "diego", "elisa", "fabio", "sofia"):
            routing.set_presence(agent=people[username], status=Presence.ONLINE)
        routing.set_presence(agent=people["ana"], status=Presence.AWAY)

        # Waiting: no team named and (yet) no default team.
        settings = RoutingSettings.load()
        default_team_id = settings.default_team_id
        RoutingSettings.objects.filter(pk=settings.pk).update(default_team=None)
        configuration_changed()
        write("tiago", "Olá, alguém pode me ajudar com um pedido?")
        write("vera", "Bom dia! Preciso de uma segunda via do boleto.")
        RoutingSettings.objects.filter(pk=settings.pk).update(
            default_team_id=default_team_id or teams[DEFAULT_TEAM].pk
        )
        configuration_changed()

        # Queued: Financeiro distributes by manual claim. Fábio takes one (ATENDER).
        write("bianca", "Minha nota fiscal veio com o valor errado.", team=teams["Financeiro"])
        write("caio", "Quero negociar uma parcela em atraso.", team=teams["Financeiro"])
        claimed = write("denise", "Posso pagar com cartão?", team=teams["Financeiro"])
        routing.claim_conversation(conversation_id=claimed.pk, agent=people["fabio"])
        post_reply(
            conversation_id=claimed.pk, author=people["fabio"],
            body="Olá Denise, pode sim! Vou te enviar o link.",
        )

        # Assigned by rotation (Vendas: only Bruno is online, Ana is away).
        sale = write("eduardo", "Vocês têm o plano anual com desconto?", team=teams["Vendas"])
        write("eduardo", "É para 20 usuários.")
        post_reply(
            conversation_id=sale.pk, author=people["bruno"],
            body="Temos sim, Eduardo! Já te mando a proposta.",
        )

        # Assigned by capacity (Suporte is the default team).
        write("flavia", "O aplicativo não abre no meu celular.")
        # Starred by a queue rule: Globex prefers Carla, and Suporte's distribution honours it.
        write("helena", "Preciso atualizar o cadastro da Globex Compras.")
        # Starred by a contact queue rule (Elisa).
        write("marina", "Oi, aqui é a Marina da Initech.")

        # Automatic rule on a contact: Rafael goes straight to Bruno, who is online.
        write("rafael", "Bruno, pode me retornar sobre o contrato?")

        # Automatic rule on Acme Corp (inherited by its departments): Diego (limit 1) gets
        # the first one, the next ones wait reserved for him.
        write("joao", "Preciso falar com o Diego sobre a fatura de março.")
        write("lucia", "Sistema fora do ar para o time de suporte da Acme.")
        write("pedro", "Diego, conseguimos marcar uma reunião?")

        # Closed: served and closed by the assignee; the contact's next message would open
        # a new conversation.
        closed = write("gustavo", "Como troco minha senha?")
        closed.refresh_from_db()
        if closed.status == Status.ASSIGNED:
            post_reply(
                conversation_id=closed.pk, author=closed.assignee,
                body="Em Configurações > Segurança. Qualquer dúvida, é só chamar!",
            )
            routing.close_conversation(conversation_id=closed.pk, actor=closed.assignee)
        else:
            routing.close_conversation(conversation_id=closed.pk, actor=people["sofia"])

        counts = {
            status: Conversation.objects.filter(
                contact__external_id__startswith=DEMO_PREFIX, status=status
            ).count()
            for status in Status.values
        }
        self.stdout.write(
            "demo conversations: " + ", ".join(f"{n} {status}" for status, n in counts.items())
        )

    def _print_logins(self, url: str, port: int) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Atende demo ready: {url}"))
        self.stdout.write(f"  admin:      {url}/admin/   user admin / {PASSWORD}")
        self.stdout.write(f"  supervisor: sofia / {PASSWORD}")
        agents = ", ".join(username for username, *_rest in PEOPLE if username != "sofia")
        self.stdout.write(f"  agents:     {agents} (password {PASSWORD})")
        self.stdout.write(f"  a client writes in through the demo channel integration "
                          f"(token {DEMO_INTEGRATION_TOKEN}):")
        self.stdout.write(
            f"    curl -X POST {url}/api/v1/inbound "
            f"-H 'Authorization: Token {DEMO_INTEGRATION_TOKEN}' "
            f"-H 'Content-Type: application/json' -d '{{\"contact\": {{\"external_id\": "
            f"\"whatsapp:+5511999990000\", \"name\": \"Maria\"}}, \"body\": \"Olá!\"}}'"
        )
        self.stdout.write(
            f"  webhooks:   off in the demo. To see what agents say and do in the demo "
            f"connector's conversations POSTed to {DEMO_WEBHOOK_URL}, start the receiver"
        )
        self.stdout.write(
            f"    .venv/bin/python manage.py webhook_receiver --port {DEMO_WEBHOOK_PORT}"
        )
        self.stdout.write(
            f"    then tick \"active\" on {DEMO_INTEGRATION} in {url}/admin/ "
            f"(Integration clients)"
        )
        self.stdout.write(f"  API docs:   {url}/api/docs/")
        self.stdout.write(
            f"  web chat:   a demo site with the web chat embedded (key {DEMO_KEY}): "
            f"http://localhost:{port}/demo/site/ (as a known customer: ?as=maria)"
        )
