"""manage.py seed_history: a history a report can read (its own times, not "now"), the same
for the same seed, added under what is there with --before."""

from datetime import date, timedelta

import pytest
from django.core.management import call_command

from apps.accounts.models import AgentChange
from apps.conversations.models import Conversation, ConversationEvent, Message
from apps.reports.periods import Question
from apps.reports.selectors import teams_report
from apps.teams.models import Team

pytestmark = pytest.mark.django_db


def fingerprint(ids):
    return sorted(Conversation.objects.filter(pk__in=ids).values_list(
        "team__name", "created_at", "status", "assigned_at", "first_reply_at", "closed_at",
        "rating_score"))


def test_the_same_seed_makes_the_same_history_with_its_own_times():
    before = date(2026, 3, 10)
    call_command("seed_history", conversations=400, days=4, teams=2, agents=4, seed=7,
                 before=before, verbosity=0)
    first = set(Conversation.objects.values_list("pk", flat=True))
    call_command("seed_history", conversations=400, days=4, teams=2, agents=4, seed=7,
                 before=before, verbosity=0)
    second = set(Conversation.objects.values_list("pk", flat=True)) - first
    assert len(first) == len(second) > 350
    assert fingerprint(first) == fingerprint(second)
    assert Team.objects.filter(name__startswith="Histórico").count() == 2
    days = {c.date() for c in Conversation.objects.values_list("created_at", flat=True)}
    assert min(days) >= before - timedelta(days=5) and max(days) < before
    assert ConversationEvent.objects.filter(kind="claimed").exists()
    assert Message.objects.filter(sender_kind="agent").exists()
    assert AgentChange.objects.filter(kind="presence", cause="connected").count() >= 4 * 4

    teams = list(Team.objects.filter(name__startswith="Histórico").order_by("id"))
    report = teams_report(Question(before - timedelta(days=4), before - timedelta(days=1),
                                   "day", teams, True))
    total = report["totals"][0]
    assert total["conversations"] > 100 and total["served"] > 90
    assert total["first_response_p50"] > 0 and 0 < total["within_target_pct"] < 100
    assert total["ratings"] > 0 and total["abandoned"] > 0


def test_older_history_goes_under_what_is_there():
    call_command("seed_history", conversations=100, days=2, teams=1, agents=2, seed=1,
                 before=date(2026, 3, 10), verbosity=0)
    call_command("seed_history", conversations=100, days=2, teams=1, agents=2, seed=2,
                 before=date(2026, 3, 8), verbosity=0)
    days = sorted({c.date() for c in Conversation.objects.values_list("created_at", flat=True)})
    assert days[0] >= date(2026, 3, 5) and days[-1] <= date(2026, 3, 9)
    assert Team.objects.count() == 1
