"""The three roles and what each may do. Groups are created by a data migration
(`revops/migrations/0002_roles.py`) from `ROLE_PERMISSIONS`, which lists the
canonical domain's permissions. Each other app grants its own permissions to
these groups in its own data migration (e.g. exceptions_queue 0002,
connectors 0002), since its permissions do not exist yet when revops migrates."""

from __future__ import annotations

FINANCE_ANALYST = "Finance Analyst"
INTEGRATION_ADMIN = "Integration Admin"
AUDITOR = "Auditor"
ROLES = (FINANCE_ANALYST, INTEGRATION_ADMIN, AUDITOR)

_CANONICAL = [
    "legalentity",
    "customer",
    "customercontact",
    "product",
    "price",
    "contract",
    "contractamendment",
    "contractline",
    "usagerecord",
    "invoice",
    "invoiceline",
    "creditnote",
    "creditnoteline",
    "payment",
    "paymentapplication",
    "externalref",
    "businessevent",
    "ownershiprule",
    "ownershiprefusal",
]
_VIEW_ALL = [f"revops.view_{model}" for model in _CANONICAL]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    # Analysts fix customer master data; ownership overrides need a reason.
    FINANCE_ANALYST: _VIEW_ALL
    + [
        "revops.change_customer",
        "revops.add_customercontact",
        "revops.change_customercontact",
        "revops.delete_customercontact",
        "revops.override_ownership",
    ],
    # Admins configure who owns which field, and may also correct master data.
    INTEGRATION_ADMIN: _VIEW_ALL
    + [
        "revops.add_ownershiprule",
        "revops.change_ownershiprule",
        "revops.delete_ownershiprule",
        "revops.change_customer",
        "revops.add_customercontact",
        "revops.change_customercontact",
        "revops.delete_customercontact",
        "revops.override_ownership",
    ],
    # Auditors read everything, history included, and change nothing.
    AUDITOR: _VIEW_ALL,
}


def user_roles(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    names = set(user.groups.values_list("name", flat=True)) & set(ROLES)
    if user.is_superuser:
        names |= set(ROLES)
    return names


def grant_role_permissions(apps, app_label: str, grants: dict[str, tuple[str, ...]]) -> None:
    """For an app's data migration: give each role group the app's permissions
    named in `grants` ({codename: roles}), adding to what the groups already have.
    Permissions are normally created after all migrations, so they are made here."""
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for codename, roles in grants.items():
        permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
        for role in roles:
            Group.objects.get_or_create(name=role)[0].permissions.add(permission)


def revoke_role_permissions(apps, app_label: str, grants: dict[str, tuple[str, ...]]) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label=app_label, codename__in=grants)
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.remove(*permissions)
