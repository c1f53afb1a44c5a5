"""``manage.py simulate``: the request from files (JSON, CSV traffic, CSV roster), the
baseline and the scenario side by side in the terminal or as JSON."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.teams.models import DistributionMode
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


def test_csv_traffic_and_roster_side_by_side(tmp_path):
    team = TeamFactory(name="Suporte", distribution_mode=DistributionMode.CAPACITY)
    (tmp_path / "traffic.csv").write_text(
        "at,team,handle_seconds,patience_seconds,requirements,contact\n"
        f"0,{team.pk},100,,,c1\n10,{team.pk},100,,english:2,c2\n20,{team.pk},100,5,,c3\n"
    )
    (tmp_path / "roster.csv").write_text(
        f"name,teams,capacity,skills,online\nAna,{team.pk},1,english:3,0-1000\n")
    (tmp_path / "scenario.json").write_text(json.dumps({"agents": {"Ana": {"capacity": 3}}}))
    out = StringIO()
    call_command("simulate", "--traffic-csv", str(tmp_path / "traffic.csv"),
                 "--roster-csv", str(tmp_path / "roster.csv"),
                 "--scenario", str(tmp_path / "scenario.json"), "--json", stdout=out)
    result = json.loads(out.getvalue())
    # Capacity 1: the second waits for the first (90 s), the third gives up after 5 s.
    assert result["baseline"]["overall"]["served"] == 2
    assert result["baseline"]["overall"]["abandoned"] == 1
    assert result["baseline"]["overall"]["wait_mean"] == 45
    assert result["scenario"]["overall"]["served"] == 3
    assert result["scenario"]["overall"]["wait_mean"] == 0

    table = StringIO()
    call_command("simulate", "--traffic-csv", str(tmp_path / "traffic.csv"),
                 "--roster-csv", str(tmp_path / "roster.csv"), stdout=table)
    assert "baseline" in table.getvalue() and "Team" in table.getvalue()


def test_a_bad_file_is_a_command_error(tmp_path):
    (tmp_path / "traffic.csv").write_text("when,where\n1,2\n")
    with pytest.raises(CommandError, match="lacks the columns"):
        call_command("simulate", "--traffic-csv", str(tmp_path / "traffic.csv"))
