"""A bank statement for the role walk (tests/revops/test_role_walk.py)."""

from __future__ import annotations

from reconciliation.statements.services import statement_import
from revops.actors import Actor
from tests.statements.vendor import sample


def walk_statement(objects):
    if "bank_statement" not in objects:
        result = statement_import(
            content=sample("mt940/jejik_triodos.sta"),
            filename="jejik_triodos.sta",
            actor=Actor.for_system("bank", "role walk"),
        )
        objects["bank_statement"] = result.statements[0].statement
    return objects["bank_statement"]
