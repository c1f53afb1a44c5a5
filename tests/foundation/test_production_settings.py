"""Production mode refuses what is unsafe: no SECRET_KEY of its own, demo logins; and with
the production settings docs/operations.md documents ``check --deploy`` has nothing to say."""

import os
import re
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from apps.accounts.models import User
from tests.foundation.test_settings_modes import CLEARED, ROOT

PRODUCTION = {
    "DATABASE_URL": "postgres://atende:secret@db.example:5432/atende",
    "REDIS_URL": "redis://cache.example:6379/0",
}
# docs/operations.md's production settings, variable by variable (a test below checks they
# match, and that deploy/atende.env.example sets them too).
DOCUMENTED = {
    **PRODUCTION,
    "SECRET_KEY": "Kq3vN8mZ2xR7pL4tW9yB6cF1hJ5dS0gA-uE_iO3nM8bV2zX7qP4wT9rY6kL1jH5f",
    "ALLOWED_HOSTS": "atende.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://atende.example.com",
    "DB_POOL_SIZE": "16",
    "SECURE_COOKIES": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
}


def run(*args, **env):
    base = {k: v for k, v in os.environ.items() if k not in (*CLEARED, "SECRET_KEY")}
    base["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**base, **env}, capture_output=True,
        text=True, timeout=120,
    )


def test_production_mode_refuses_to_start_without_a_secret_key():
    done = run("manage.py", "check", **PRODUCTION)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert "SECRET_KEY" in done.stderr.splitlines()[-1]
    served = run("-c", "import django; django.setup(); import config.asgi", **PRODUCTION)
    assert served.returncode != 0 and "SECRET_KEY" in served.stderr


def test_embedded_mode_still_needs_no_secret_key():
    assert run("manage.py", "check").returncode == 0


def test_check_deploy_is_clean_with_the_documented_production_settings():
    done = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", **DOCUMENTED)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_the_operations_guide_documents_those_settings():
    guide = (ROOT / "docs" / "operations.md").read_text()
    section = guide.split("## From an empty machine", 1)[1].split("\n## ", 1)[0]
    example = (ROOT / "deploy" / "atende.env.example").read_text()
    for name in DOCUMENTED:
        assert re.search(rf"\b{name}=", section), f"{name} is not in the guide"
        assert re.search(rf"^{name}=", example, re.MULTILINE), f"{name} is not in the example"
    for topic in ("check --deploy", "atende-beat", "--proxy-headers", "FORWARDED_ALLOW_IPS"):
        assert topic in guide, topic
    readme = (ROOT / "README.md").read_text()
    assert "(docs/operations.md)" in readme.split("## Production", 1)[1]


def test_check_deploy_is_clean_with_the_example_environment_file():
    example = dict(
        line.split("=", 1) for line in (ROOT / "deploy" / "atende.env.example").read_text()
        .splitlines() if line and not line.startswith("#")
    )
    example["SECRET_KEY"] = DOCUMENTED["SECRET_KEY"]  # the example's placeholder is short
    done = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", **example)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy():
    response = Client().get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert "frame-ancestors 'none'" in policy


@pytest.mark.django_db
def test_the_api_docs_load_no_inline_script():
    page = Client().get("/api/docs/").content.decode()
    assert re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", page) == []
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")


@pytest.mark.django_db
def test_seed_demo_refuses_production_mode_unless_forced(settings, capsys):
    settings.EMBEDDED = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")
    assert not User.objects.filter(username="admin").exists()
    call_command("seed_demo", "--force")
    assert User.objects.filter(username="admin").exists()
