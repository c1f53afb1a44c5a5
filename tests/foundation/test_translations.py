"""Portuguese throughout, and it stays so: every pt-BR catalogue is complete (no untranslated,
no fuzzy entry), compiled, consistent in its placeholders and current with the sources
(``makemessages`` finds nothing new); the pages' scripts only ask for texts that exist; and
errors are raised with translatable sentences, never bare English."""

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.utils import translation

from apps.inbox.views import page_strings
from apps.reports.views import page_strings as report_strings
from apps.simulation.views import page_strings as simulation_strings
from apps.webchat.strings import strings as webchat_strings

ROOT = Path(__file__).resolve().parents[2]
PT_BR = sorted((ROOT / "locale" / "pt_BR" / "LC_MESSAGES").glob("*.po"))
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]|\{(\w+)\}")


def entries(path):
    return [e for e in polib.pofile(str(path)) if not e.obsolete]


def test_there_is_a_pt_br_catalogue():
    assert PT_BR, "no catalogue under locale/pt_BR/LC_MESSAGES"


@pytest.mark.parametrize("path", PT_BR, ids=lambda p: p.name)
def test_every_entry_is_translated_and_none_is_fuzzy(path):
    untranslated = [e.msgid for e in entries(path) if not e.translated()]
    fuzzy = [e.msgid for e in entries(path) if "fuzzy" in e.flags]
    assert not untranslated, f"untranslated in {path.name}: {untranslated}"
    assert not fuzzy, f"fuzzy in {path.name}: {fuzzy}"


@pytest.mark.parametrize("path", PT_BR, ids=lambda p: p.name)
def test_translations_keep_their_placeholders(path):
    def names(text):
        return sorted({m.group(0) for m in PLACEHOLDER.finditer(text)})

    wrong = []
    for entry in entries(path):
        forms = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        source = names(entry.msgid_plural or entry.msgid)
        wrong += [(entry.msgid, text) for text in forms if names(text) != source]
    assert not wrong, wrong


@pytest.mark.parametrize("path", PT_BR, ids=lambda p: p.name)
def test_the_compiled_catalogue_is_the_source_catalogue(path):
    """The .mo the server reads says what the .po says (compilemessages was run)."""
    compiled = polib.mofile(str(path.with_suffix(".mo")))
    have = {(e.msgid, e.msgstr or tuple(e.msgstr_plural.values())) for e in compiled if e.msgid}
    want = {
        (e.msgid, e.msgstr or tuple(e.msgstr_plural.values()))
        for e in entries(path) if e.msgid
    }
    assert have == want, "run: python manage.py compilemessages -l pt_BR"


def test_the_catalogue_is_current_with_the_sources(tmp_path):
    """makemessages over a copy of the sources finds exactly the committed msgids."""
    if not shutil.which("xgettext"):
        pytest.fail("xgettext is missing (makemessages needs GNU gettext): apt-get install gettext")
    for name in ("apps", "config", "templates", "locale"):
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    done = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "pt_BR", "--no-obsolete"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings",
             "SQLITE_PATH": str(tmp_path / "unused.sqlite3")},
    )
    assert done.returncode == 0, done.stderr
    for path in PT_BR:
        committed = {e.msgid for e in entries(path)}
        fresh = {e.msgid for e in entries(tmp_path / "locale" / "pt_BR" / "LC_MESSAGES" /
                                            path.name)}
        assert fresh - committed == set(), "new texts: run makemessages and translate them"
        assert committed - fresh == set(), "texts no longer in the sources: run makemessages"


def test_the_pages_scripts_ask_only_for_texts_that_exist():
    """static/js asks for its texts by key (t("key")); a missing key would show the key."""
    keys = (set(page_strings()) | set(report_strings()) | set(simulation_strings())
            | set(webchat_strings()))
    asked = set()
    for script in (ROOT / "static" / "js").rglob("*.js"):
        asked |= set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", script.read_text()))
    assert asked, "no t(...) calls found: did the scripts move?"
    assert asked - keys == set()


def test_the_pages_texts_are_portuguese_for_pt_br():
    with translation.override("en"):
        english = page_strings() | report_strings() | simulation_strings() | webchat_strings()
    with translation.override("pt-br"):
        portuguese = (page_strings() | report_strings() | simulation_strings()
                      | webchat_strings())
    same = {k for k, v in english.items() if portuguese[k] == v}
    # Names, numbers and units that read the same in both languages.
    assert same <= {
        "online", "offline", "channel_whatsapp", "channel_telegram", "channel_instagram",
        "channel_sms", "channel_bot", "wait_seconds", "wait_minutes", "wait_hours", "wait_days",
        "showing_n", "total", "seconds_short", "hour_short",
    }, same


# --------------------------------------------------------------------------- errors in words

ERRORS = {
    "DomainError", "NotAllowed", "NotFound", "Conflict", "InvalidInput", "ValidationError",
    "ConversationNotFound", "ConversationAlreadyTaken", "ConversationClosed",
    "InvalidTransition", "NotAllowedToRoute", "UnknownTarget", "AuthenticationFailed",
    "PermissionDenied",
}


def _english_raises(tree):
    for node in ast.walk(tree):
        call = node.exc if isinstance(node, ast.Raise) else None
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Call):
            call = node.value
        if not isinstance(call, ast.Call):
            continue
        name = getattr(call.func, "id", None) or getattr(call.func, "attr", None)
        if name not in ERRORS or not call.args:
            continue
        first = call.args[0]
        if isinstance(first, ast.JoinedStr) or (
            isinstance(first, ast.Constant) and isinstance(first.value, str)
        ):
            yield node.lineno
        if isinstance(first, ast.Dict):
            for value in first.values:
                items = value.elts if isinstance(value, ast.List) else [value]
                if any(isinstance(i, (ast.JoinedStr, ast.Constant)) and
                       isinstance(getattr(i, "value", ""), str) for i in items):
                    yield node.lineno


def test_errors_are_raised_with_translatable_sentences():
    """A domain or validation error carries a sentence the API shows to people: it is
    wrapped with gettext (full sentences, named parameters), so it reaches a pt-BR inbox in
    Portuguese. A bare literal or an f-string would reach it in English."""
    found = []
    for source in (ROOT / "apps").rglob("*.py"):
        if "migrations" in source.parts:
            continue
        tree = ast.parse(source.read_text(), filename=str(source))
        found += [f"{source.relative_to(ROOT)}:{line}" for line in _english_raises(tree)]
    assert not found, found
