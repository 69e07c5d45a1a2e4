"""Reconciliations, their ranked match rules, runs and run results.

Design:
- A `Reconciliation` compares two sides (left, right) of one kind, e.g. billing
  invoices ⇄ ERP invoices. Its `MatchRule`s are tried in rank order; each either
  matches automatically or only suggests a match for an analyst.
- Neither side is read through another app's code. Canonical data is read from
  revops' tables; data held by another system (ERP invoices, CRM deals) is read
  from `ExternalRecord`, a snapshot of that system's documents loaded set-based
  (CSV export, a connector's snapshot table, or a benchmark's generator).
- A `Run` copies both sides into temporary tables, matches them with SQL
  (`reconciliation.engine`) and writes its report as `RunLine`s (a matched or
  suggested pair per line, or one unmatched record) plus `RunTotal`s per side,
  currency and outcome, all set-based.
- Analysts' confirmations and rejections of suggestions are `MatchDecision`s:
  history of who decided what, and remembered by every later run.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Q, Subquery

from revops.models.base import (
    TimestampedModel,
    currency_check,
    currency_field,
    money_field,
    rate_field,
    tracked,
)


class Kind(models.TextChoices):
    INVOICES_ERP = "invoices_erp", "Billing invoices ⇄ ERP invoices"
    PAYMENTS_INVOICES = "payments_invoices", "Gateway payments ⇄ invoices"
    CASH_APPLICATION = "cash_application", "Bank entries ⇄ invoices (cash application)"
    USAGE_BILLED = "usage_billed", "Usage ⇄ billed usage per contract and period"
    DEALS_CONTRACTS = "deals_contracts", "CRM closed-won deals ⇄ active contracts"


class Side(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"


class Reconciliation(TimestampedModel):
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    legal_entity = models.ForeignKey(
        "revops.LegalEntity",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Only this entity's records; empty for all",
    )
    external_system = models.CharField(
        max_length=64,
        blank=True,
        help_text='The other system\'s snapshot to read, e.g. "netsuite" (ERP) or "hubspot" (CRM)',
    )
    lookback_days = models.PositiveIntegerField(
        default=90, help_text="Records dated within this many days before the run are compared"
    )
    every_hours = models.PositiveIntegerField(
        default=24, help_text="Run by schedule this often; 0 runs it only on demand"
    )
    enabled = models.BooleanField(default=True)

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="reconciliation_name_not_blank"),
            models.CheckConstraint(
                condition=Q(kind__in=[choice.value for choice in Kind]), name="reconciliation_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Method(models.TextChoices):
    EXACT_REFERENCE = "exact_reference", "Exact reference"
    AMOUNT_CUSTOMER_DATE = "amount_customer_date", "Amount + customer + date window"


class Cardinality(models.TextChoices):
    ONE_TO_ONE = "1:1", "One to one"
    ONE_TO_MANY = "1:N", "One left for several right (one payment, several invoices)"
    MANY_TO_ONE = "N:1", "Several left for one right (instalments of one invoice)"


class Action(models.TextChoices):
    AUTO = "auto", "Match automatically"
    SUGGEST = "suggest", "Suggest for confirmation"


class MatchRule(TimestampedModel):
    Method = Method
    Cardinality = Cardinality
    Action = Action

    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveSmallIntegerField(help_text="Rules are tried from the lowest position up")
    name = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    method = models.CharField(max_length=24, choices=Method.choices)
    cardinality = models.CharField(max_length=3, choices=Cardinality.choices, default=Cardinality.ONE_TO_ONE)
    action = models.CharField(max_length=8, choices=Action.choices, default=Action.AUTO)
    amount_tolerance = money_field(default=0, help_text="Largest difference in amount, in the currency")
    tolerance_percent = rate_field(
        default=0, help_text="…or this percent of the larger amount, whichever is more"
    )
    date_window_days = models.PositiveSmallIntegerField(
        default=0, help_text="Largest gap between the two dates, in days"
    )
    compare_tax = models.BooleanField(default=False, help_text="Tax must agree within the tolerance too")
    compare_status = models.BooleanField(default=False, help_text="Statuses must agree too")

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["reconciliation", "position"]
        constraints = [
            models.UniqueConstraint(fields=["reconciliation", "position"], name="match_rule_position_unique"),
            models.CheckConstraint(
                condition=Q(amount_tolerance__gte=0), name="match_rule_tolerance_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(tolerance_percent__gte=0, tolerance_percent__lte=100),
                name="match_rule_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(method__in=[choice.value for choice in Method]), name="match_rule_method_known"
            ),
            models.CheckConstraint(
                condition=Q(cardinality__in=[choice.value for choice in Cardinality]),
                name="match_rule_cardinality_known",
            ),
            models.CheckConstraint(
                condition=Q(action__in=[choice.value for choice in Action]), name="match_rule_action_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"


class ExternalRecord(models.Model):
    """Another system's document as last loaded: what the ERP or CRM says."""

    system = models.CharField(max_length=64)
    object_type = models.CharField(max_length=32, help_text='"invoice", "deal", ...')
    external_id = models.CharField(max_length=255)
    reference = models.CharField(max_length=255, blank=True, help_text="Document number in that system")
    customer_key = models.CharField(max_length=100, blank=True, help_text="The customer's number in revops")
    legal_entity_code = models.CharField(max_length=20, blank=True)
    amount = money_field()
    tax_amount = money_field(default=0)
    currency = currency_field()
    status = models.CharField(max_length=32, blank=True)
    record_date = models.DateField()
    loaded_at = models.DateTimeField()

    class Meta:
        ordering = ["system", "object_type", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "object_type", "external_id"], name="external_record_unique"
            ),
            models.CheckConstraint(condition=~Q(external_id=""), name="external_record_id_not_blank"),
            currency_check("currency", "external_record_currency_iso"),
        ]
        indexes = [
            models.Index(fields=["system", "object_type", "record_date"], name="external_record_dated")
        ]

    def __str__(self) -> str:
        return f"{self.system}:{self.object_type}:{self.external_id}"


class Run(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "On demand"
        RESUBMIT = "resubmit", "Resubmitted break"
        DECISION = "decision", "After a decision"

    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.PROTECT, related_name="runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    requested_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)
    left_count = models.PositiveIntegerField(default=0)
    right_count = models.PositiveIntegerField(default=0)
    matched_groups = models.PositiveIntegerField(default=0)
    suggested_groups = models.PositiveIntegerField(default=0)
    left_unmatched = models.PositiveIntegerField(default=0)
    right_unmatched = models.PositiveIntegerField(default=0)
    breaks_opened = models.PositiveIntegerField(default=0)
    breaks_seen_again = models.PositiveIntegerField(default=0)
    breaks_resolved = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    phases = models.JSONField(
        default=list, blank=True, help_text="[step, seconds] of each step of the run, in the order they ran"
    )
    line_ranges = models.JSONField(
        default=dict, blank=True, help_text="outcome → [first, last] id of its lines (see RunLine)"
    )
    lines_removed_at = models.DateTimeField(
        null=True, blank=True, help_text="When its report lines were removed as too old (totals are kept)"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reconciliation"],
                condition=Q(status__in=["queued", "running"]),
                name="reconciliation_one_active_run",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["succeeded", "failed"]) | Q(finished_at__isnull=False),
                name="reconciliation_run_finished_at",
            ),
        ]
        indexes = [models.Index(fields=["reconciliation", "-created_at"], name="recon_run_latest")]

    def __str__(self) -> str:
        return f"{self.reconciliation} run {self.pk}"

    @property
    def seconds_taken(self) -> float | None:
        """From the worker taking the run to its end (its steps overlap where a
        run writes on two connections, so they add up to more)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def phase_times(self) -> list[tuple[str, float]]:
        """(step, seconds) in the order the steps ran. Runs before the list was
        kept have a mapping (whose keys JSONB stores sorted, not in order)."""
        if isinstance(self.phases, dict):
            return list(self.phases.items())
        return [(name, seconds) for name, seconds in self.phases]

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def lines_removed_note(self) -> str:
        """Why a run past its retention shows no lines, for the person looking for them."""
        if self.lines_removed_at is None:
            return ""
        return (
            f"The report lines of run {self.pk} were removed on {self.lines_removed_at:%Y-%m-%d}: revops keeps a "
            f"run's lines for {settings.REVOPS_RECONCILIATION_LINES_DAYS} days after it finished (an Integration "
            "Admin sets this with REVOPS_RECONCILIATION_LINES_DAYS); its totals and the breaks it opened are kept, "
            f"and the latest run of {self.reconciliation.name} always keeps its lines."
        )


def newest_run(reconciliation: OuterRef, statuses: tuple[str, ...], field: str = "pk") -> Subquery:
    """`field` (its id by default) of the newest run in one of `statuses` of the
    reconciliation the outer query names (`OuterRef("pk")` over reconciliations,
    `OuterRef("reconciliation")` over runs)."""
    runs = Run.objects.filter(reconciliation=reconciliation, status__in=statuses).order_by(
        "-created_at", "-pk"
    )
    return Subquery(runs.values(field)[:1])


class Outcome(models.TextChoices):
    MATCHED = "matched", "Matched"
    SUGGESTED = "suggested", "Suggested"
    UNMATCHED = "unmatched", "Unmatched"


class RunLine(models.Model):
    """One line of a run's report. A matched or suggested pair is one line with
    both sides; a group of one record against several has one line per part,
    the whole repeated on each; an unmatched record is a line with the other
    side empty. Lines of a group share `group_no` (numbered within the run).

    A run writes its lines in one statement, ordered by outcome then group, so
    each outcome's lines are one range of ids (`Run.line_ranges`): the report
    reads them through the primary key, and no other index slows the write of
    a million lines."""

    # No database constraint: its check runs once per line when the run commits (seconds for a
    # million lines), and only the engine writes lines, for the run it has just claimed.
    # Deleting a run still deletes its lines (through Django).
    run = models.ForeignKey(
        Run, on_delete=models.CASCADE, related_name="lines", db_index=False, db_constraint=False
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    group_no = models.PositiveIntegerField(null=True, blank=True)
    # A deleted rule keeps its id here (the report says the rule was deleted), so deleting a rule
    # never rewrites millions of past lines.
    rule = models.ForeignKey(
        MatchRule,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    decided = models.CharField(max_length=10, blank=True, help_text="confirmed or rejected after the run")
    currency = currency_field()
    left_key = models.CharField(max_length=255, blank=True, help_text="The record's id on its side")
    left_id = models.BigIntegerField(null=True, blank=True, help_text="The canonical row, when there is one")
    left_reference = models.CharField(max_length=255, blank=True)
    left_customer = models.CharField(max_length=100, blank=True)
    left_date = models.DateField(null=True, blank=True)
    left_amount = money_field(null=True, blank=True)
    left_tax = money_field(null=True, blank=True)
    left_status = models.CharField(max_length=32, blank=True)
    right_key = models.CharField(max_length=255, blank=True, help_text="The record's id on its side")
    right_id = models.BigIntegerField(null=True, blank=True, help_text="The canonical row, when there is one")
    right_reference = models.CharField(max_length=255, blank=True)
    right_customer = models.CharField(max_length=100, blank=True)
    right_date = models.DateField(null=True, blank=True)
    right_amount = money_field(null=True, blank=True)
    right_tax = money_field(null=True, blank=True)
    right_status = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="unmatched", group_no__isnull=True) & (Q(left_key="") ^ Q(right_key=""))
                | (~Q(outcome="unmatched") & Q(group_no__isnull=False) & ~Q(left_key="") & ~Q(right_key="")),
                name="run_line_pair_or_single",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=[choice.value for choice in Outcome]), name="run_line_outcome_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.left_reference or '—'} ⇄ {self.right_reference or '—'}: {self.outcome}"

    # What a line shows of each side's record, in order: `left_<name>` and `right_<name>`.
    SIDE_COLUMNS = ("key", "reference", "customer", "date", "amount", "tax", "status")

    @classmethod
    def side_fields(cls) -> list[str]:
        return [f"{side}_{name}" for side in ("left", "right") for name in cls.SIDE_COLUMNS]

    @property
    def difference(self):
        if self.left_amount is None or self.right_amount is None:
            return None
        return self.left_amount - self.right_amount


class RunTotal(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="totals")
    side = models.CharField(max_length=5, choices=Side.choices)
    currency = currency_field()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    count = models.PositiveIntegerField()
    amount = money_field()

    class Meta:
        ordering = ["run", "side", "currency", "outcome"]
        constraints = [
            models.UniqueConstraint(fields=["run", "side", "currency", "outcome"], name="run_total_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.outcome}: {self.count} for {self.amount} {self.currency}"


class MatchDecision(models.Model):
    """An analyst confirmed or rejected a suggested pair; every later run keeps it."""

    class Decision(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        REJECTED = "rejected", "Rejected"

    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="decisions")
    left_key = models.CharField(max_length=255)
    right_key = models.CharField(max_length=255)
    decision = models.CharField(max_length=10, choices=Decision.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)
    run = models.ForeignKey(Run, null=True, on_delete=models.SET_NULL, related_name="decisions")

    history = tracked()

    class Meta:
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reconciliation", "left_key", "right_key"], name="match_decision_one_per_pair"
            ),
            models.CheckConstraint(
                condition=Q(decision__in=["confirmed", "rejected"]), name="match_decision_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.left_key} ⇄ {self.right_key}: {self.decision}"
