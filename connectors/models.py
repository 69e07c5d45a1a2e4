"""Connector configuration, sync runs and cursors, the raw inbound store and
webhook deliveries."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q

from connectors.crypto import EncryptedJSONField, EncryptedTextField
from revops.models import LegalEntity
from revops.models.base import tracked

SECRET_FIELDS = ["credentials", "webhook_secret"]


class Connector(models.Model):
    class Direction(models.TextChoices):
        PULL = "pull", "Pull into revops"
        PUSH = "push", "Push from revops"
        BOTH = "both", "Both"

    class ScheduleType(models.TextChoices):
        MANUAL = "manual", "Manual only"
        INTERVAL = "interval", "Every N minutes"
        CRON = "cron", "Cron expression"

    class Health(models.TextChoices):
        NEVER_RUN = "never_run", "Never run"
        HEALTHY = "healthy", "Healthy"
        DEGRADED = "degraded", "Retrying"
        FAILING = "failing", "Failing"

    name = models.SlugField(max_length=60, unique=True, help_text="Short unique name, e.g. stripe-us")
    kind = models.CharField(max_length=40)
    legal_entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="connectors")
    enabled = models.BooleanField(default=True)
    base_url = models.URLField(max_length=300, blank=True)
    # Secrets: encrypted at rest, never rendered back, never in history (see tracked() below).
    credentials = EncryptedJSONField(default=dict, blank=True)
    webhook_secret = EncryptedTextField(blank=True, default="")
    schedule_type = models.CharField(max_length=10, choices=ScheduleType.choices, default=ScheduleType.MANUAL)
    interval_minutes = models.PositiveIntegerField(null=True, blank=True)
    cron = models.CharField(max_length=100, blank=True)
    object_types = models.JSONField(default=list, blank=True, help_text="Streams to sync; empty means all")
    direction = models.CharField(max_length=5, choices=Direction.choices, default=Direction.PULL)
    q_schedule_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)

    health = models.CharField(max_length=10, choices=Health.choices, default=Health.NEVER_RUN)
    failing_reason = models.CharField(max_length=500, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = tracked(excluded_fields=[*SECRET_FIELDS, "updated_at", "last_run_at"])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(schedule_type="interval") | Q(interval_minutes__gte=1),
                name="connector_interval_needs_minutes",
            ),
            models.CheckConstraint(
                condition=~Q(schedule_type="cron") | ~Q(cron=""), name="connector_cron_needs_expression"
            ),
        ]
        permissions = [("run_connector", "Can start a sync or replay")]

    def __str__(self) -> str:
        return self.name


class SyncCursor(models.Model):
    """Where the last committed page of a stream ended."""

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="cursors")
    stream = models.CharField(max_length=40)
    value = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connector", "stream"], name="sync_cursor_unique_stream")
        ]

    def __str__(self) -> str:
        return f"{self.connector.name}/{self.stream}"


ACTIVE_RUN_STATUSES = ("queued", "running", "retrying")


class SyncRun(models.Model):
    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Manual"
        WEBHOOK = "webhook", "Webhook"
        REPLAY = "replay", "Replay"
        FILE = "file", "File import"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        RETRYING = "retrying", "Waiting to retry"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    full = models.BooleanField(default=False, help_text="Full sync from the start instead of from the cursor")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    stream = models.CharField(max_length=40, blank=True, help_text="Stream being read")
    cursor_before = models.JSONField(default=dict, blank=True)
    cursor_after = models.JSONField(default=dict, blank=True)
    pages = models.PositiveIntegerField(default=0)
    read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    business_errors = models.PositiveIntegerField(default=0)
    error_class = models.CharField(max_length=20, blank=True)
    error_message = models.TextField(blank=True)
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays"
    )
    file_name = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One run per connector at a time, whichever worker or cluster asks.
            models.UniqueConstraint(
                fields=["connector"], condition=Q(status__in=ACTIVE_RUN_STATUSES), name="sync_run_one_active"
            ),
            # Every record read is accounted for.
            models.CheckConstraint(
                condition=Q(
                    read=F("created") + F("updated") + F("unchanged") + F("skipped") + F("business_errors")
                ),
                name="sync_run_counts_add_up",
            ),
        ]
        indexes = [models.Index(fields=["connector", "-created_at"], name="sync_run_connector_recent")]

    def __str__(self) -> str:
        return f"{self.connector.name} run {self.pk}"

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class InboundRecord(models.Model):
    """The raw store: every distinct version of every record a connector read."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        UNCHANGED = "unchanged", "Unchanged"
        SKIPPED = "skipped", "Skipped (ownership)"
        STALE = "stale", "Older than what we hold"
        BUSINESS_ERROR = "business_error", "Business error"

    # connector and run lead the unique constraint's and inbound_run_outcome's indexes: no index of their own.
    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="inbound", db_index=False)
    object_type = models.CharField(max_length=32)
    source_type = models.CharField(max_length=40, blank=True)
    external_id = models.CharField(max_length=255)
    version = models.CharField(max_length=64, blank=True)
    content_hash = models.CharField(max_length=64)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    run = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="records", db_index=False
    )
    last_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    message = models.TextField(blank=True)
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    exception_item_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "object_type", "external_id", "content_hash"],
                name="inbound_record_unique_content",
            )
        ]
        indexes = [
            models.Index(fields=["run", "outcome"], name="inbound_run_outcome"),
            # A prefix of inbound_record_unique_content, but the planner only
            # picks the wider index for a batch lookup once the table is large.
            models.Index(fields=["connector", "object_type", "external_id"], name="inbound_source_object"),
        ]

    def __str__(self) -> str:
        return f"{self.connector.name}:{self.object_type}:{self.external_id}"


class SourceObject(models.Model):
    """The newest version of each source object applied to canonical data, so an
    older delivery arriving late never regresses it."""

    # Indexed as the first column of source_object_unique.
    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="+", db_index=False)
    object_type = models.CharField(max_length=32)
    external_id = models.CharField(max_length=255)
    applied_version = models.CharField(max_length=64, blank=True)
    applied_hash = models.CharField(max_length=64)
    applied_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "object_type", "external_id"], name="source_object_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_type}:{self.external_id}@{self.applied_version}"


class WebhookDelivery(models.Model):
    """A signed webhook event as received; processed by a task. Event ids are
    kept at least 30 days so a redelivery is recognised and ignored."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="webhooks")
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["connector", "event_id"], name="webhook_delivery_unique_event")
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="webhook_status_received")]

    def __str__(self) -> str:
        return f"{self.connector.name}:{self.event_id}"


# -- file imports ---------------------------------------------------------------------------------

from django.conf import settings  # noqa: E402 - the file-import models were appended to this module

FILE_OBJECT_TYPES = [
    ("customer", "Customers"),
    ("contract", "Contracts"),
    ("invoice", "Invoices"),
    ("payment", "Payments"),
    ("usage", "Usage"),
]


class ColumnMapping(models.Model):
    """Which CSV column feeds which canonical field, for one connector and object
    type, with how the file writes numbers and dates."""

    class Delimiter(models.TextChoices):
        COMMA = ",", "Comma (,)"
        SEMICOLON = ";", "Semicolon (;)"
        TAB = "\t", "Tab"
        PIPE = "|", "Pipe (|)"

    class Thousands(models.TextChoices):
        NONE = "", "None (1234.50)"
        COMMA = ",", "Comma (1,234.50)"
        DOT = ".", "Dot (1.234,50)"
        SPACE = " ", "Space (1 234,50)"
        APOSTROPHE = "'", "Apostrophe (1'234.50)"

    class DecimalMark(models.TextChoices):
        DOT = ".", "Dot (12.50)"
        COMMA = ",", "Comma (12,50)"

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="column_mappings")
    object_type = models.CharField(max_length=32, choices=FILE_OBJECT_TYPES)
    name = models.CharField(max_length=100)
    mapping = models.JSONField(default=dict, help_text="{canonical field: CSV column}")
    delimiter = models.CharField(max_length=1, choices=Delimiter.choices, default=Delimiter.COMMA)
    thousands_separator = models.CharField(
        max_length=1, choices=Thousands.choices, default=Thousands.NONE, blank=True
    )
    decimal_separator = models.CharField(max_length=1, choices=DecimalMark.choices, default=DecimalMark.DOT)
    date_format = models.CharField(
        max_length=40, blank=True, help_text="strftime format such as %d/%m/%Y; empty means YYYY-MM-DD"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["connector__name", "object_type", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "object_type", "name"], name="column_mapping_unique_name"
            ),
            models.CheckConstraint(
                condition=~Q(thousands_separator=F("decimal_separator")),
                name="column_mapping_separators_differ",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connector.name} {self.object_type}: {self.name}"

    def options(self) -> dict[str, str]:
        return {
            "delimiter": self.delimiter,
            "thousands": self.thousands_separator,
            "decimal": self.decimal_separator,
            "date_format": self.date_format,
        }


class FileImport(models.Model):
    """An uploaded file and the run that processed it. The bytes are kept so a
    background worker (or a resumed run) reads exactly what was uploaded; the
    mapping is copied so a later edit does not change what this import meant.
    Re-uploading a file is not refused here: the raw store recognises every row
    already applied, so it changes nothing."""

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="file_imports")
    object_type = models.CharField(max_length=32, choices=FILE_OBJECT_TYPES)
    mapping = models.ForeignKey(
        ColumnMapping, null=True, blank=True, on_delete=models.SET_NULL, related_name="imports"
    )
    mapping_snapshot = models.JSONField(default=dict, help_text="{'columns': {...}, 'options': {...}}")
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    content = models.BinaryField()
    row_count = models.PositiveIntegerField(default=0)
    record_count = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.CharField(max_length=200, blank=True)
    run = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="file_imports"
    )
    report = models.JSONField(null=True, blank=True, help_text="Rejected rows, written when the run ends")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["connector", "-created_at"], name="file_import_connector_recent"),
            models.Index(fields=["sha256"], name="file_import_sha256"),
        ]

    def __str__(self) -> str:
        return f"{self.connector.name} {self.object_type} {self.file_name}"


# -- outbound posting to an ERP -------------------------------------------------------------------


class ErpMapping(models.Model):
    """How one ERP connector's legal entity maps onto the ERP: subsidiary, accounts,
    tax codes and item ids (see connectors.erp.mapping)."""

    connector = models.OneToOneField(Connector, on_delete=models.CASCADE, related_name="erp_mapping")
    subsidiary_id = models.CharField(max_length=40, blank=True)
    ar_account_id = models.CharField("AR account id", max_length=40, blank=True)
    cash_account_id = models.CharField(
        "cash account id",
        max_length=40,
        blank=True,
        help_text="Undeposited funds or bank account for payments",
    )
    tax_codes = models.JSONField(
        default=dict, blank=True, help_text='{jurisdiction or rate or "default": tax code id}'
    )
    item_ids = models.JSONField(default=dict, blank=True, help_text="{product SKU: item id}")
    default_item_id = models.CharField(
        max_length=40, blank=True, help_text="For lines without a mapped product"
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = tracked(excluded_fields=["updated_at"])

    def __str__(self) -> str:
        return f"ERP mapping of {self.connector.name}"


class OutboundPosting(models.Model):
    """One revision of one canonical document posted to one ERP connector, exactly once."""

    class Action(models.TextChoices):
        CREATE = "create", "Create"
        REVERSE = "reverse", "Reverse"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        POSTING = "posting", "Posting"
        UNCERTAIN = "uncertain", "Outcome unknown"
        POSTED = "posted", "Posted"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected by the ERP"
        CANCELLED = "cancelled", "Not needed"

    connector = models.ForeignKey(Connector, on_delete=models.PROTECT, related_name="postings")
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    document_label = models.CharField(max_length=100, blank=True)
    revision = models.PositiveIntegerField(default=1)
    action = models.CharField(max_length=10, choices=Action.choices)
    record_type = models.CharField(max_length=40)
    external_id = models.CharField(max_length=255)
    idempotency_key = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    request = models.JSONField(default=dict, blank=True)
    response = models.JSONField(default=dict, blank=True)
    erp_id = models.CharField(max_length=64, blank=True)
    last_error = models.TextField(blank=True)
    correlation_id = models.UUIDField(null=True, blank=True)
    exception_item_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "content_type", "object_id", "revision", "action"],
                name="outbound_posting_one_per_revision",
            ),
            models.CheckConstraint(
                condition=~Q(status="posted") | ~Q(erp_id=""), name="outbound_posting_posted_has_erp_id"
            ),
            models.CheckConstraint(condition=~Q(idempotency_key=""), name="outbound_posting_key_not_blank"),
            models.CheckConstraint(condition=Q(revision__gte=1), name="outbound_posting_revision_positive"),
        ]
        indexes = [
            models.Index(fields=["connector", "status", "-created_at"], name="outbound_connector_status"),
            models.Index(fields=["content_type", "object_id"], name="outbound_document"),
        ]

    def __str__(self) -> str:
        return f"{self.connector.name} {self.action} {self.document_label or self.object_id} r{self.revision}"
