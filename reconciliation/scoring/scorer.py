"""Score matching rules against generated cash-application data.

The generated credits and invoices are loaded into the engine's side tables
exactly as the cash-application reconciliation loads bank entries and invoices
(same columns, same tokens from remittance text, customers found by the payer's
name the same way), the rules run, and each pair the engine chose is compared
with the truth:

- precision of automatic matches: of the pairs matched automatically, how many
  are true;
- recall: of the true pairs, how many were matched automatically or suggested.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db import connection, transaction

from reconciliation.cash import CASH_RULES, remittance_tokens
from reconciliation.engine import AUTO, Engine, RuleSpec
from reconciliation.scoring.generator import Dataset
from reconciliation.sources import LEFT, RIGHT
from reconciliation.sql import normalise_reference as normalised


@dataclass
class Score:
    truth: int
    auto: int
    auto_true: int
    suggested: int
    suggested_true: int
    found: int
    by_scenario: dict[str, tuple[int, int, int]] = field(
        default_factory=dict
    )  # scenario → (true, auto, found)

    @property
    def auto_precision(self) -> float:
        return self.auto_true / self.auto if self.auto else 1.0

    @property
    def suggestion_precision(self) -> float:
        return self.suggested_true / self.suggested if self.suggested else 1.0

    @property
    def auto_recall(self) -> float:
        return self.auto_true / self.truth if self.truth else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.truth if self.truth else 1.0


def rule_specs(rules: list[dict] = CASH_RULES) -> list[RuleSpec]:
    defaults = {
        "cardinality": "1:1",
        "action": "auto",
        "amount_tolerance": 0,
        "tolerance_percent": 0,
        "date_window_days": 0,
        "compare_tax": False,
        "compare_status": False,
    }
    specs = []
    for rule in sorted(rules, key=lambda r: r["position"]):
        values = {**defaults, **rule}
        specs.append(
            RuleSpec(
                id=values["position"],
                method=values["method"],
                cardinality=values["cardinality"],
                outcome=AUTO if values["action"] == "auto" else "suggested",
                amount_tolerance=values["amount_tolerance"],
                tolerance_percent=values["tolerance_percent"],
                date_window_days=values["date_window_days"],
            )
        )
    return specs


def chosen_pairs(data: Dataset, specs: list[RuleSpec]) -> dict[tuple[str, str], str]:
    """(entry key, invoice key) → outcome, as the engine chose them."""
    payer = {normalised(name): number for number, name in sorted(data.customers.items(), reverse=True)}
    with transaction.atomic(), connection.cursor() as cursor:
        engine = Engine(cursor)
        engine.prepare()
        engine.load_rows(
            LEFT,
            [
                (
                    e.key,
                    None,
                    e.structured_reference,
                    payer.get(normalised(e.counterparty), ""),
                    e.value_date,
                    e.amount,
                    0,
                    e.currency,
                    "booked",
                )
                for e in data.entries
            ],
        )
        engine.load_rows(
            RIGHT,
            [
                (i.key, None, i.number, i.customer, i.due_date, i.amount, 0, i.currency, "open")
                for i in data.invoices
            ],
        )
        cursor.execute("SELECT row_id, source_key FROM recon_side WHERE side = %s", [LEFT])
        rows = dict(cursor.fetchall())
        by_key = {e.key: e for e in data.entries}
        engine.add_tokens(
            (row_id, LEFT, token)
            for row_id, key in rows.items()
            for token in remittance_tokens(by_key[key].structured_reference, by_key[key].remittance)
        )
        engine.load_tokens([])
        for spec in specs:
            engine.apply(spec)
        chosen = {(left, right): outcome for left, right, outcome in engine.chosen_pairs()}
        engine.drop()
    return chosen


def score(data: Dataset, specs: list[RuleSpec] | None = None) -> Score:
    chosen = chosen_pairs(data, specs or rule_specs())
    truth = data.truth
    auto = {pair for pair, outcome in chosen.items() if outcome == AUTO}
    suggested = set(chosen) - auto
    scenario_of = {entry.key: entry.scenario for entry in data.entries}
    counts: dict[str, Counter] = {}
    for pair in truth:
        c = counts.setdefault(scenario_of[pair[0]], Counter())
        c["true"] += 1
        c["auto"] += pair in auto
        c["found"] += pair in chosen
    return Score(
        truth=len(truth),
        auto=len(auto),
        auto_true=len(auto & truth),
        suggested=len(suggested),
        suggested_true=len(suggested & truth),
        found=len(set(chosen) & truth),
        by_scenario={name: (c["true"], c["auto"], c["found"]) for name, c in sorted(counts.items())},
    )
