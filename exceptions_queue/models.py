"""Exception items: business problems (and exhausted retries) a person reviews,
corrects and resubmits, and the comments on them.

This app names the step that failed by a key and the connector, run and inbound
record by id only: it imports neither `connectors` nor `reconciliation`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q

from exceptions_queue.codes import CODES, ExceptionCode, Severity
from revops.models.base import TimestampedModel, currency_field, money_field, tracked


class Status(models.TextChoices):
    NEW = "new", "New"
    IN_REVIEW = "in_review", "In review"
    RESUBMITTED = "resubmitted", "Resubmitted"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"


OPEN_STATUSES = (Status.NEW, Status.IN_REVIEW, Status.RESUBMITTED)
CLOSED_STATUSES = (Status.RESOLVED, Status.DISMISSED)
OPEN_Q = Q(status__in=OPEN_STATUSES)


class Priority(models.IntegerChoices):
    URGENT = 1, "Urgent"
    HIGH = 2, "High"
    NORMAL = 3, "Normal"
    LOW = 4, "Low"


# Until routing rules assign one, an item's priority follows its severity.
PRIORITY_FOR_SEVERITY = {
    Severity.CRITICAL: Priority.URGENT,
    Severity.HIGH: Priority.HIGH,
    Severity.MEDIUM: Priority.NORMAL,
    Severity.LOW: Priority.LOW,
}


# Columns the queue's filters test (exceptions_queue.filters), kept in the open
# queue's covering index.
QUEUE_FILTER_COLUMNS = [
    "status",
    "code",
    "severity",
    "priority",
    "team",
    "assignee",
    "connector_id",
    "legal_entity",
    "customer",
    "due_at",
    "first_seen_at",
    "amount",
    "currency",
]


class ExceptionItem(TimestampedModel):
    Status = Status
    Priority = Priority
    Severity = Severity
    Code = ExceptionCode

    code = models.CharField(max_length=32, choices=ExceptionCode.choices)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    title = models.CharField(max_length=200)
    message = models.TextField(blank=True)
    dedupe_key = models.CharField(max_length=255, help_text="code | object | rule")
    step_key = models.CharField(
        max_length=100, help_text='The step that failed, e.g. "stripe.invoice"; resubmission re-runs it'
    )

    # Where it came from. Ids, not foreign keys: this app does not import connectors.
    source_system = models.CharField(max_length=64, blank=True)
    connector_id = models.PositiveBigIntegerField(null=True, blank=True)
    connector_name = models.CharField(max_length=100, blank=True)
    sync_run_id = models.PositiveBigIntegerField(null=True, blank=True)
    inbound_record_id = models.PositiveBigIntegerField(null=True, blank=True)

    # The canonical object concerned, when there is one.
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("content_type", "object_id")
    object_label = models.CharField(max_length=200, blank=True)
    # Business keys the queue is searched and filtered by: the record's id in its
    # source system and the customer it concerns (when one is known).
    external_id = models.CharField(max_length=255, blank=True)
    customer = models.ForeignKey(
        "revops.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="exception_items"
    )
    correlation_id = models.UUIDField(null=True, blank=True)
    legal_entity = models.ForeignKey(
        "revops.LegalEntity",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exception_items",
    )
    amount = money_field(null=True, blank=True)
    currency = currency_field(blank=True)

    payload = models.JSONField(default=dict, blank=True, help_text="The data as received")
    error_details = models.JSONField(
        default=list, blank=True, help_text="[{field, message, expected, actual}]"
    )
    suggested_correction = models.JSONField(null=True, blank=True)
    correction = models.JSONField(null=True, blank=True, help_text="The analyst's data for resubmission")

    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_exception_items",
    )
    team = models.ForeignKey(
        "auth.Group", on_delete=models.SET_NULL, null=True, blank=True, related_name="exception_items"
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    due_at = models.DateTimeField(null=True, blank=True, help_text="From the SLA of the routing rule")
    routing_rule = models.ForeignKey(
        "exceptions_queue.RoutingRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The rule that set team, priority and due time when the item was opened",
    )

    notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the team was emailed about this item (high priority only)"
    )
    occurrences = models.PositiveIntegerField(default=1)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    dismissed_reason = models.TextField(blank=True)

    history = tracked(excluded_fields=["updated_at", "notified_at"])

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(status__in=OPEN_STATUSES),
                name="exception_one_open_per_dedupe_key",
            ),
            models.CheckConstraint(condition=Q(occurrences__gte=1), name="exception_occurrences_positive"),
            models.CheckConstraint(
                condition=~Q(status=Status.DISMISSED) | Q(dismissed_reason__regex=r"\S"),
                name="exception_dismissal_needs_reason",
            ),
            models.CheckConstraint(
                condition=(Q(status__in=CLOSED_STATUSES) & Q(resolved_at__isnull=False))
                | (~Q(status__in=CLOSED_STATUSES) & Q(resolved_at__isnull=True)),
                name="exception_resolved_at_iff_closed",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in Status]), name="exception_status_valid"
            ),
            models.CheckConstraint(condition=Q(code__in=list(CODES)), name="exception_code_valid"),
            models.CheckConstraint(
                condition=Q(severity__in=[choice.value for choice in Severity]),
                name="exception_severity_valid",
            ),
            models.CheckConstraint(condition=~Q(dedupe_key=""), name="exception_dedupe_key_not_blank"),
            models.CheckConstraint(condition=~Q(title=""), name="exception_title_not_blank"),
            models.CheckConstraint(
                condition=Q(content_type__isnull=True, object_id__isnull=True)
                | Q(content_type__isnull=False, object_id__isnull=False),
                name="exception_subject_complete",
            ),
            models.CheckConstraint(
                condition=Q(currency="") | Q(currency__regex=r"^[A-Z]{3}$"),
                name="exception_currency_iso_or_blank",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | ~Q(currency=""), name="exception_amount_has_currency"
            ),
            models.CheckConstraint(
                condition=Q(last_seen_at__gte=models.F("first_seen_at")),
                name="exception_seen_in_order",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-last_seen_at", "-id"], name="exception_queue"),
            models.Index(fields=["code", "status"], name="exception_code_status"),
            models.Index(fields=["assignee", "status"], name="exception_assignee_status"),
            models.Index(fields=["correlation_id"], name="exception_correlation"),
            models.Index(fields=["content_type", "object_id"], name="exception_subject"),
            models.Index(fields=["external_id"], name="exception_external_id"),
            models.Index(fields=["customer", "status"], name="exception_customer_status"),
            # The queue: one index per sort over the open items, and the filters' keys.
            # The default view's order, carrying every column the filters test: a page's ids and
            # its capped count come from this index alone (index-only scans), whatever the filter.
            models.Index(
                fields=["-last_seen_at", "-id"],
                include=QUEUE_FILTER_COLUMNS,
                condition=OPEN_Q,
                name="exception_open_newest_cover",
            ),
            models.Index(fields=["first_seen_at", "id"], condition=OPEN_Q, name="exception_open_oldest"),
            models.Index(fields=["due_at", "id"], condition=OPEN_Q, name="exception_open_due"),
            models.Index(
                fields=["priority", "-last_seen_at", "-id"], condition=OPEN_Q, name="exception_open_priority"
            ),
            models.Index(fields=["-occurrences", "-id"], condition=OPEN_Q, name="exception_open_occurrences"),
            # Any status, newest or oldest first (a single status uses exception_queue).
            models.Index(fields=["-last_seen_at", "-id"], name="exception_newest"),
            models.Index(fields=["first_seen_at", "id"], name="exception_oldest"),
            models.Index(fields=["connector_id", "status"], name="exception_connector_status"),
            models.Index(fields=["team", "status"], name="exception_team_status"),
            models.Index(
                fields=["object_label"], opclasses=["varchar_pattern_ops"], name="exception_label_prefix"
            ),
            models.Index(fields=["dedupe_key"], name="exception_dedupe_key"),
        ]

    def __str__(self) -> str:
        return f"{self.code} #{self.pk}: {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def code_info(self):
        return CODES[self.code]


class ExceptionComment(models.Model):
    item = models.ForeignKey(ExceptionItem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="exception_comments",
    )
    actor = models.CharField(max_length=200, help_text="Who wrote it, as an auditor reads it")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    history = tracked()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(body__regex=r"\S"), name="exception_comment_not_blank"),
        ]
        indexes = [models.Index(fields=["item", "created_at"], name="exception_comment_item")]

    def __str__(self) -> str:
        return f"Comment by {self.actor} on #{self.item_id}"


class RoutingRule(TimestampedModel):
    """Who owns a new exception item, how urgent it is and when it is due.

    Rules are tried in `position` order when an item is opened; the first whose
    conditions all hold (an empty condition matches anything) sets the item's
    team, priority and due time. The default rule has no conditions and is tried
    last, so every item has an owner.
    """

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(help_text="Lower numbers are tried first")
    enabled = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, help_text="Tried last; matches every item")

    codes = models.JSONField(default=list, blank=True, help_text="Exception codes; empty matches any")
    legal_entity = models.ForeignKey(
        "revops.LegalEntity", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    connector_name = models.CharField(max_length=100, blank=True, help_text="Blank matches any connector")
    currency = currency_field(blank=True, help_text="The amount range applies to items in this currency")
    amount_min = money_field(null=True, blank=True)
    amount_max = money_field(null=True, blank=True)

    team = models.ForeignKey("auth.Group", on_delete=models.PROTECT, related_name="+")
    priority = models.PositiveSmallIntegerField(
        choices=Priority.choices, null=True, blank=True, help_text="Blank keeps the priority of the severity"
    )
    sla_hours = models.PositiveIntegerField(null=True, blank=True, help_text="Blank: no due time")

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["is_default", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["position"], name="routing_rule_position_unique"),
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="routing_rule_one_default"
            ),
            models.CheckConstraint(
                condition=Q(is_default=False)
                | Q(codes=[], legal_entity__isnull=True, connector_name="", currency="")
                & Q(amount_min__isnull=True, amount_max__isnull=True, enabled=True),
                name="routing_rule_default_matches_all",
            ),
            models.CheckConstraint(
                condition=Q(amount_min__isnull=True)
                | Q(amount_max__isnull=True)
                | Q(amount_max__gte=F("amount_min")),
                name="routing_rule_amount_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(amount_min__isnull=True, amount_max__isnull=True) | ~Q(currency=""),
                name="routing_rule_amount_needs_currency",
            ),
            models.CheckConstraint(
                condition=Q(sla_hours__isnull=True) | Q(sla_hours__gte=1), name="routing_rule_sla_positive"
            ),
            models.CheckConstraint(
                condition=Q(priority__isnull=True) | Q(priority__in=Priority.values),
                name="routing_rule_priority_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BulkActionType(models.TextChoices):
    ASSIGN = "assign", "Assign"
    RESUBMIT = "resubmit", "Resubmit"
    DISMISS = "dismiss", "Dismiss"


class BulkState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class BulkAction(models.Model):
    """One bulk change to exception items (a selection or everything matching a
    filter), carried out by a background task that reports its progress here."""

    Action = BulkActionType
    State = BulkState

    action = models.CharField(max_length=16, choices=Action.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    item_ids = models.JSONField(default=list, blank=True, help_text="The items chosen, fixed when confirmed")
    filter_description = models.TextField(blank=True, help_text="The filter that chose them, as shown")
    params = models.JSONField(default=dict, blank=True, help_text="assignee_id, reason")
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="Closed or changed by someone else meanwhile")
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[{item_id, message}], the first ones")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exception_bulk_actions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last progress; a stale one lets a redelivered task take over"
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(processed__lte=F("total")), name="bulk_processed_within_total"
            ),
            models.CheckConstraint(
                condition=Q(processed=F("succeeded") + F("skipped") + F("failed")),
                name="bulk_counts_add_up",
            ),
            models.CheckConstraint(condition=Q(action__in=BulkActionType.values), name="bulk_action_valid"),
            models.CheckConstraint(condition=Q(state__in=BulkState.values), name="bulk_state_valid"),
            models.CheckConstraint(
                condition=~Q(state="done") | Q(processed=F("total")), name="bulk_done_means_all_processed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.total} items (#{self.pk})"

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(self.processed * 100 / self.total)

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)


class SlaDigest(models.Model):
    """One day's email to a team listing its items past their due time. The
    unique (team, day) row is how the scheduled task claims the day's digest, so
    a duplicate delivery sends nothing twice."""

    team = models.ForeignKey("auth.Group", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    item_count = models.PositiveIntegerField()
    recipients = models.PositiveIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "team"]
        constraints = [models.UniqueConstraint(fields=["team", "day"], name="sla_digest_once_per_team_day")]

    def __str__(self) -> str:
        return f"SLA digest for {self.team} on {self.day}"


class SavedView(models.Model):
    """A filter of the queue a person saved under a name, for themselves."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exception_saved_views"
    )
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=2000, blank=True, help_text="The queue's query string")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_view_name_unique_per_user"),
            models.CheckConstraint(condition=Q(name__regex=r"\S"), name="saved_view_name_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name
