"""Demo logins: one user per role and one with no role (to show the no-access
page). The passwords are published in the command's output and the README:
these users belong in a demo database only."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password

from revops.roles import AUDITOR, FINANCE_ANALYST, INTEGRATION_ADMIN

DEMO_USERS = (
    # username, password, group (None: no role)
    ("analyst", "analyst-demo-2026", FINANCE_ANALYST),
    ("admin", "admin-demo-2026", INTEGRATION_ADMIN),
    ("auditor", "auditor-demo-2026", AUDITOR),
    ("viewer", "viewer-demo-2026", None),
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    created: bool


def ensure_demo_users() -> list[DemoLogin]:
    """Create the demo users that do not exist; existing users are left as they are."""
    User = get_user_model()
    logins = []
    for username, password, group_name in DEMO_USERS:
        role = group_name or "no role (sees the no-access page)"
        if User.objects.filter(username=username).exists():
            logins.append(DemoLogin(username, "(unchanged: the user already existed)", role, created=False))
            continue
        user = User(username=username, email=f"{username}@demo.example")
        validate_password(password, user)
        user.set_password(password)
        user.save()
        if group_name:
            user.groups.add(Group.objects.get(name=group_name))
        logins.append(DemoLogin(username, password, role, created=True))
    return logins
