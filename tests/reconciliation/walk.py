"""A reconciliation, a rule and a run for the role walk (tests/revops/test_role_walk.py)."""

from __future__ import annotations

from reconciliation import services
from reconciliation.models import Kind
from reconciliation.runs import run_now
from revops.actors import Actor

ACTOR = Actor.for_system("tests", "role walk")


def walk_reconciliation(objects) -> dict:
    if "reconciliation" not in objects:
        recon = services.reconciliation_save(
            name="Walk billing ⇄ ERP",
            kind=Kind.INVOICES_ERP,
            external_system="netsuite",
            actor=ACTOR,
            reason="walk",
        )
        rule = services.rule_save(
            reconciliation=recon,
            actor=ACTOR,
            reason="walk",
            position=10,
            name="Same number",
            method="exact_reference",
        )
        objects["reconciliation"] = {
            "recon": recon,
            "rule": rule,
            "run": run_now(reconciliation=recon, actor=ACTOR),
        }
    return objects["reconciliation"]
