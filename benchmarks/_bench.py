"""What the benchmark scripts share: the repository on the import path, a
production-like Django on a dedicated database, and timing helpers.

Importing this module puts the repository root on sys.path, so a script run as
`uv run python benchmarks/<name>.py` can import the project's apps.

    from _bench import setup_django, timed_ms

    setup_django(args.database_url)  # creates the database if missing, migrates
    median = statistics.median(timed_ms(work, repeat=10, warmup=1))
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def production_like_environment(database_url: str, **extra: str) -> None:
    """DEBUG off, a fresh secret and encryption key, quiet logs; HTTPS redirects
    and secure cookies off because Django's test client speaks plain HTTP.
    `extra` sets further variables (e.g. REVOPS_BULK_INLINE_MAX="0")."""
    from cryptography.fernet import Fernet

    os.environ.update(
        DATABASE_URL=database_url,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="testserver",
        REVOPS_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        LOG_LEVEL="WARNING",
        **extra,
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revops.settings")


def ensure_database(database_url: str) -> None:
    """Create the database if missing; refuse any whose name lacks "bench",
    since the scripts empty the tables they fill."""
    import psycopg
    from psycopg import sql

    name = database_url.rsplit("/", 1)[1].split("?")[0]
    if "bench" not in name:
        sys.exit(f"Refusing to empty database {name!r}: its name must contain 'bench'.")
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def django_setup() -> None:
    """Django on the settings in the environment (DATABASE_URL or the embedded SQLite)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revops.settings")
    import django

    django.setup()


def setup_django(database_url: str, *, collectstatic: bool = False, **extra: str) -> None:
    """The benchmark database, created if missing and migrated, behind a
    production-like Django (see production_like_environment for `extra`)."""
    ensure_database(database_url)
    production_like_environment(database_url, **extra)
    django_setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if collectstatic:  # pages render {% static %} through the manifest, as in production
        call_command("collectstatic", interactive=False, verbosity=0)


def timed_ms(
    action: Callable[[], object], repeat: int, *, warmup: int = 0, setup: Callable[[], object] | None = None
) -> list[float]:
    """Milliseconds of `repeat` calls of `action`, after `warmup` untimed calls
    (caches, plans, templates); `setup` runs untimed before each timed call."""
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def get_ms(client, url: str, repeat: int, headers: dict | None = None) -> list[float]:
    """Milliseconds of `repeat` GET requests of `url` through a Django test
    client, after two untimed ones; every answer must be a 200."""

    def get() -> None:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)

    return timed_ms(get, repeat, warmup=2)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages, e.g. "1.20, 0.95, 0.80"."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())
