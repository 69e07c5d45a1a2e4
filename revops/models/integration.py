"""How canonical objects meet the outside: external ids, business events with
correlation ids, and field-ownership rules between systems."""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from revops.models.base import TimestampedModel, tracked

# Canonical object types, as connectors and rules name them.
OBJECT_TYPES = [
    ("customer", "Customer"),
    ("contact", "Customer contact"),
    ("product", "Product"),
    ("price", "Price"),
    ("contract", "Contract"),
    ("contract_line", "Contract line"),
    ("usage", "Usage record"),
    ("invoice", "Invoice"),
    ("credit_note", "Credit note"),
    ("payment", "Payment"),
]


class ExternalRef(models.Model):
    """(system, object type, external id) → one canonical object."""

    system = models.CharField(max_length=64)
    object_type = models.CharField(max_length=32, choices=OBJECT_TYPES)
    external_id = models.CharField(max_length=255)
    # No index of its own: external_ref_target starts with it.
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, db_index=False)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    created_at = models.DateTimeField(auto_now_add=True)

    # History rows are read by object id and date only: no other index to keep up.
    history = tracked(no_db_index=["content_type"])

    class Meta:
        ordering = ["system", "object_type", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "object_type", "external_id"], name="external_ref_unique_per_system"
            ),
            models.UniqueConstraint(
                fields=["system", "content_type", "object_id"], name="external_ref_one_per_object_and_system"
            ),
            models.CheckConstraint(condition=~Q(external_id=""), name="external_ref_id_not_blank"),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="external_ref_target"),
            models.Index(fields=["external_id"], name="external_ref_external_id"),
        ]

    def __str__(self) -> str:
        return f"{self.system}:{self.object_type}:{self.external_id}"


class BusinessEvent(models.Model):
    """Something that happened in the quote-to-cash flow. Append-only: events are
    corrected by new events, never edited."""

    type = models.CharField(max_length=64)
    # No index of its own: event_subject starts with it.
    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, db_index=False)
    subject_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("subject_type", "subject_id")
    subject_label = models.CharField(max_length=200)
    source = models.CharField(max_length=64, help_text="System the event came from")
    actor = models.CharField(max_length=200)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    correlation_id = models.UUIDField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    # History rows are read by object id and date only: no other index to keep up.
    history = tracked(no_db_index=["subject_type", "type"])

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["correlation_id", "occurred_at"], name="event_correlation"),
            models.Index(fields=["subject_type", "subject_id", "-occurred_at"], name="event_subject"),
            models.Index(fields=["-occurred_at", "-id"], name="event_recent"),
            # Business SLAs read one type's events in a time window; also serves type alone.
            models.Index(fields=["type", "occurred_at"], name="event_type_time"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.subject_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Business events are append-only; record a new event instead.")
        super().save(*args, **kwargs)


ALL_FIELDS = "*"


class OwnershipRule(TimestampedModel):
    """Which system is authoritative for a field of an object type (`*`: all
    fields). A field rule beats the type's `*` rule. No rule: anyone may write."""

    object_type = models.CharField(max_length=32, choices=OBJECT_TYPES)
    field = models.CharField(max_length=64, default=ALL_FIELDS, help_text="Field name, or * for all fields")
    owner_system = models.CharField(max_length=64, help_text='e.g. "salesforce", "stripe", "revops"')
    notes = models.CharField(max_length=300, blank=True)

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["object_type", "field"]
        constraints = [
            models.UniqueConstraint(fields=["object_type", "field"], name="ownership_rule_unique_field"),
            models.CheckConstraint(condition=~Q(owner_system=""), name="ownership_rule_owner_not_blank"),
            models.CheckConstraint(condition=~Q(field=""), name="ownership_rule_field_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.object_type}.{self.field} → {self.owner_system}"


class OwnershipRefusal(models.Model):
    """A change a system tried to make to a field it does not own."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    object_type = models.CharField(max_length=32, choices=OBJECT_TYPES)
    field = models.CharField(max_length=64)
    attempted_by_system = models.CharField(max_length=64)
    actor = models.CharField(max_length=200)
    owner_system = models.CharField(max_length=64)
    current_value = models.JSONField(null=True)
    attempted_value = models.JSONField(null=True)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="ownership_refusal_target")]

    def __str__(self) -> str:
        return f"{self.attempted_by_system} may not change {self.object_type}.{self.field}"
