"""The inbox's script (static/js/inbox/): its store passes its own tests under Node
(`node --test tests/js/`), and the visibility it applies is the server's rule, rendered into
the page from apps/conversations/visibility.py, agreeing with ``may_see`` on every case."""

import itertools
import json
import shutil
import subprocess

import pytest
from django.urls import reverse

from apps.accounts.models import Role, User
from apps.conversations.events import Placement
from apps.conversations.models import Status
from apps.conversations.visibility import may_see, script_table
from tests.factories import AgentFactory, TeamFactory
from tests.inbox.servers import ROOT

NODE = shutil.which("node")
ME, OTHER, MY_TEAM, OTHER_TEAM = 7, 8, 1, 2


def node(*args, input_text=None) -> subprocess.CompletedProcess:
    if NODE is None:
        pytest.fail("Node.js 20 or later tests the pages' scripts: apt-get install nodejs")
    return subprocess.run([NODE, *args], cwd=ROOT, input=input_text, capture_output=True,
                          text=True, timeout=60)


def test_the_inbox_store_passes_its_node_tests():
    done = node("--test", "tests/js/")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout


# Every status, with no, my or another team, assignee and preferred agent, for an agent (a
# member of team 1) and a supervisor.
CASES = [
    {"role": role, "status": status, "team": team, "assignee": assignee, "preferred": preferred}
    for role, status, team, assignee, preferred in itertools.product(
        (Role.AGENT, Role.SUPERVISOR), Status.values, (None, MY_TEAM, OTHER_TEAM),
        (None, ME, OTHER), (None, ME, OTHER),
    )
]

def test_the_script_sees_what_the_server_lets_a_person_see():
    runner = f"""
import {{ readFileSync }} from "node:fs";
import {{ createState, maySee }} from "./static/js/inbox/store.js";
const {{ table, cases }} = JSON.parse(readFileSync(0, "utf8"));
const answers = cases.map((c) => {{
  const state = createState({{
    me: {{ id: {ME}, is_supervisor: c.role !== "agent" }}, visibility: table,
    counts: {{ waiting: 0, mine: 0, reserved_for_me: 0,
              teams: [{{ id: {MY_TEAM}, name: "Mine", queued: 0 }}] }},
  }});
  return maySee(state, {{ id: 1, status: c.status, team: c.team, assignee: c.assignee,
                         preferred_agent: c.preferred }});
}});
process.stdout.write(JSON.stringify(answers));
"""
    done = node("--input-type=module", "-e", runner,
                input_text=json.dumps({"table": script_table(), "cases": CASES}))
    assert done.returncode == 0, done.stderr
    script = json.loads(done.stdout)
    server = [
        may_see(
            User(pk=ME, role=case["role"], is_active=True),
            Placement(status=case["status"], team_id=case["team"], assignee_id=case["assignee"],
                      preferred_agent_id=case["preferred"]),
            team_ids=[MY_TEAM],
        )
        for case in CASES
    ]
    differ = [case for case, a, b in zip(CASES, script, server, strict=True) if a != b]
    assert differ == [], f"{len(differ)} of {len(CASES)} cases differ, e.g. {differ[:3]}"
    assert any(server) and not all(server)


@pytest.mark.django_db
def test_the_inbox_page_carries_the_rule_it_applies(client):
    agent = AgentFactory()
    TeamFactory(agents=[agent])
    client.force_login(agent)
    html = client.get(reverse("inbox")).content.decode()
    start = html.index('<script id="visibility-data" type="application/json">')
    body = html[start:].split(">", 1)[1].split("</script>", 1)[0]
    assert json.loads(body) == script_table()
    assert script_table()["waiting"] != script_table()["queued"]  # the rule, not a constant
