"""Settings come from the environment and a malformed value stops start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
GOOD_PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "-production-secret-value-that-is-long-enough-0123456789",
    "ALLOWED_HOSTS": "revops.example.com",
    "REVOPS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
}


def _load(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    clean.update(env)
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='revops.settings'; django.setup(); "
        "from django.conf import settings; print(settings.Q_CLUSTER.get('redis', 'orm'))"
    )
    return subprocess.run(  # noqa: S603 - fixed interpreter and code
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"DEBUG": "false"}, "SECRET_KEY must be set"),
        ({**GOOD_PRODUCTION, "SECRET_KEY": "short"}, "at least 50 characters"),
        ({**GOOD_PRODUCTION, "ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must list"),
        ({**GOOD_PRODUCTION, "REVOPS_ENCRYPTION_KEYS": ""}, "REVOPS_ENCRYPTION_KEYS must be set"),
        ({"REVOPS_ENCRYPTION_KEYS": "not-a-key"}, "item 1 is not a valid Fernet key"),
        ({"Q_TIMEOUT": "600", "Q_RETRY": "300"}, "Q_RETRY (300) must be greater than Q_TIMEOUT (600)"),
        ({"Q_WORKERS": "two"}, "Q_WORKERS='two' is not a whole number"),
        ({"REDIS_URL": "localhost:6379"}, "must start with redis://"),
        ({"ALLOWED_HOSTS": "a.example,,b.example"}, "has an empty item"),
        ({"EMAIL_HOST": "smtp.example", "EMAIL_PORT": "99999"}, "EMAIL_PORT=99999 is above the maximum"),
        ({"LOG_LEVEL": "verbose"}, "LOG_LEVEL='verbose' must be one of"),
        ({"REVOPS_TAX_TOLERANCE": "1 cent"}, "REVOPS_TAX_TOLERANCE='1 cent' is not a decimal number"),
        ({"REVOPS_TAX_TOLERANCE": "-0.01"}, "REVOPS_TAX_TOLERANCE=-0.01 is below the minimum of 0"),
        ({"REVOPS_BASE_URL": "revops.example.com"}, "REVOPS_BASE_URL must be an http(s) URL"),
        ({"REVOPS_BULK_INLINE_MAX": "lots"}, "REVOPS_BULK_INLINE_MAX='lots' is not a whole number"),
    ],
)
def test_a_malformed_setting_stops_start_up_with_a_clear_message(env, message):
    result = _load(env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_settings_load_when_complete():
    result = _load(GOOD_PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "orm"


def test_a_redis_url_switches_the_broker():
    result = _load({"REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "redis://127.0.0.1:6379/0"
