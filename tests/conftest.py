"""Shared fixtures: a fixed cast of users, one per role plus one with no access."""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.db import connections
from django.test.utils import override_settings

from revops.roles import AUDITOR, FINANCE_ANALYST, INTEGRATION_ADMIN
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[1]

# Playwright's sync API runs an event loop in the test thread; the ORM calls the
# tests make around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """Hash test passwords with a cheap hasher. The default (PBKDF2, a million
    rounds) costs over half a second of CPU per user, and the suite makes a fixed
    cast of users for most tests; logging in still checks the password the same
    way. Production keeps Django's default hashers."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


def _user_in(group_name: str | None, username: str):
    user = UserFactory(username=username)
    if group_name:
        user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def analyst(db):
    return _user_in(FINANCE_ANALYST, "analyst")


@pytest.fixture
def integration_admin(db):
    return _user_in(INTEGRATION_ADMIN, "integrator")


@pytest.fixture
def auditor(db):
    return _user_in(AUDITOR, "auditor")


@pytest.fixture
def no_role_user(db):
    return _user_in(None, "norole")


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def cast(analyst, integration_admin, auditor, no_role_user, superuser):
    """Every kind of user, by role name; `None` stands for anonymous."""
    return {
        "anonymous": None,
        "no_role": no_role_user,
        "analyst": analyst,
        "integration_admin": integration_admin,
        "auditor": auditor,
        "superuser": superuser,
    }


def pytest_collection_modifyitems(items):
    """Transactional tests must restore the migrated data (role groups, content
    types, schedules) they flush; a flush without it leaves the next transactional
    test with rows whose ids no longer match, so it is refused at collection.

    Schemathesis names each API operation's test (`test_…[GET /api/v1/…]`) but pytest
    builds its node id from the function's name alone, so the contract test's items
    would share one id, and parallel workers, which schedule tests by id, would run
    one operation only: each gets an id of its own, from its name."""
    for item in items:
        if getattr(item, "operation_label", None) and not item.nodeid.endswith(f"::{item.name}"):
            _own_node_id(item, f"{item.parent.nodeid}::{item.name}")
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            raise pytest.UsageError(
                f"{item.nodeid}: use @pytest.mark.django_db(transaction=True, serialized_rollback=True)"
            )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A transactional test ends by emptying every table; restore the migrated data
    (role groups, content types, schedules) after it. Run in one process, pytest-django
    puts transactional tests last, so nothing ran after the flush; parallel workers
    take whole files, so a file's transactional test is followed by other files' tests."""
    try:
        return (yield)
    finally:
        marker = item.get_closest_marker("django_db")
        # After the last test the session's teardown has dropped the test database.
        if nextitem is not None and marker and marker.kwargs.get("transaction"):
            _restore_migrated_data(item.config)


def _restore_migrated_data(config) -> None:
    from pytest_django.plugin import blocking_manager_key

    connection = connections["default"]
    data = getattr(connection, "_test_serialized_contents", None)
    if data:
        with config.stash[blocking_manager_key].unblock():
            connection.creation.deserialize_db_from_string(data)


def _own_node_id(item, nodeid: str) -> None:
    if hasattr(item, "_id"):  # pytest 9 keeps the id structured
        from _pytest.nodeid import NodeId

        item._id = NodeId.parse(nodeid)
    else:
        item._nodeid = nodeid


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def page():
    """A Playwright page in Debian's chromium (scripts/test installs it)."""
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            # While Playwright's event loop runs in this thread, Django keeps the thread's
            # database connections per async context (asgiref's Local), so the ORM calls
            # the test made went through connections of their own that pytest-django's
            # teardown never sees. Close them here: left open, the last one keeps a
            # session on the test database, which then cannot be dropped after the run.
            connections.close_all()
            context.close()
            browser.close()


# -- the embedded database (SQLite) in a subprocess ----------------------------------------------


def _migrate_sqlite(path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "DJANGO_SETTINGS_MODULE": "revops.settings"}
    done = subprocess.run(  # noqa: S603 - the project's own command
        [sys.executable, "manage.py", "migrate", "--no-input", "--verbosity=0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"migrating {path} failed:\n{done.stderr[-3000:]}"


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory) -> Path:
    """One SQLite database migrated once for the whole run: migrating SQLite rebuilds a
    table for most schema changes and takes half a minute, so the tests that run the
    embedded database in a subprocess start from copies of this one. Parallel workers
    share it: the first to take the lock migrates, the others wait for it."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's directory, above each worker's own
    template = shared / "embedded-migrated.sqlite3"
    done = shared / "embedded-migrated.done"
    with (shared / "embedded-migrated.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            for leftover in (template, Path(f"{template}-wal"), Path(f"{template}-shm")):
                leftover.unlink(missing_ok=True)
            _migrate_sqlite(template)
            done.touch()
    return template


@pytest.fixture
def migrated_sqlite(migrated_sqlite_template, tmp_path) -> Path:
    """A fresh, fully migrated SQLite database file of this test's own."""
    path = tmp_path / "embedded.sqlite3"
    # The backup API copies a consistent database whatever its journal (WAL) holds.
    with sqlite3.connect(migrated_sqlite_template) as source, sqlite3.connect(path) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    return path


@pytest.fixture
def run_on_embedded(migrated_sqlite):
    """Runs a Python script with Django set up on a fresh embedded (SQLite)
    database of this test's own, in a subprocess; the script ends by printing
    "ok" once its own asserts pass."""

    def run(script: str, *, timeout: int = 300) -> None:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{migrated_sqlite}"}
        env["DJANGO_SETTINGS_MODULE"] = "revops.settings"
        result = subprocess.run(  # noqa: S603 - fixed interpreter and the test's own script
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert result.stdout.strip().endswith("ok"), result.stdout[-3000:]

    return run
