"""The exception taxonomy: what each code means, how bad it is by default, and
whether it is a business error (a person must fix data) or a dead letter (a
transient fault whose automatic retries ran out).

Pure Python: connectors and reconciliation import it to name their problems.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import models


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class Kind(models.TextChoices):
    BUSINESS = "business", "Business error"
    DEAD_LETTER = "dead_letter", "Dead letter"


class ExceptionCode(models.TextChoices):
    TAX_MISMATCH = "TAX_MISMATCH", "Tax mismatch"
    UNKNOWN_CUSTOMER = "UNKNOWN_CUSTOMER", "Unknown customer"
    UNKNOWN_PRODUCT = "UNKNOWN_PRODUCT", "Unknown product"
    INVALID_CONTRACT_STATE = "INVALID_CONTRACT_STATE", "Invalid contract state"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH", "Currency mismatch"
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH", "Amount mismatch"
    DUPLICATE_DOCUMENT = "DUPLICATE_DOCUMENT", "Duplicate document"
    LATE_USAGE = "LATE_USAGE", "Late usage"
    OWNERSHIP_CONFLICT = "OWNERSHIP_CONFLICT", "Ownership conflict"
    ERP_REJECTED = "ERP_REJECTED", "Rejected by the ERP"
    DEAD_LETTER = "DEAD_LETTER", "Dead letter (retries exhausted)"
    RECONCILIATION_BREAK = "RECONCILIATION_BREAK", "Reconciliation break"
    STATEMENT_UNBALANCED = "STATEMENT_UNBALANCED", "Bank statement does not balance"
    VALIDATION_FAILED = "VALIDATION_FAILED", "Validation failed"


@dataclass(frozen=True)
class CodeInfo:
    code: str
    label: str
    severity: str
    kind: str
    meaning: str  # what went wrong and why it matters, in plain language

    @property
    def is_dead_letter(self) -> bool:
        return self.kind == Kind.DEAD_LETTER


_C = ExceptionCode
_S = Severity
_B = Kind.BUSINESS

CODES: dict[str, CodeInfo] = {
    info.code: info
    for info in (
        CodeInfo(
            _C.TAX_MISMATCH,
            _C.TAX_MISMATCH.label,
            _S.HIGH,
            _B,
            "The tax on this document differs from the tax expected for its jurisdictions beyond the "
            "rounding tolerance; posting it as is would misstate tax owed to the authorities.",
        ),
        CodeInfo(
            _C.UNKNOWN_CUSTOMER,
            _C.UNKNOWN_CUSTOMER.label,
            _S.MEDIUM,
            _B,
            "The source names a customer revops has no record of, so the document cannot be attached "
            "to an account; it is held back until the customer is created or linked.",
        ),
        CodeInfo(
            _C.UNKNOWN_PRODUCT,
            _C.UNKNOWN_PRODUCT.label,
            _S.MEDIUM,
            _B,
            "A line refers to a product or price revops does not know, so revenue cannot be classified "
            "or priced; the document is held back until the product is mapped.",
        ),
        CodeInfo(
            _C.INVALID_CONTRACT_STATE,
            _C.INVALID_CONTRACT_STATE.label,
            _S.MEDIUM,
            _B,
            "The change is not allowed in the contract's current state (for example usage on an ended "
            "contract); applying it would bill against terms that no longer hold.",
        ),
        CodeInfo(
            _C.CURRENCY_MISMATCH,
            _C.CURRENCY_MISMATCH.label,
            _S.HIGH,
            _B,
            "The document's currency differs from the customer's or contract's currency; booking it "
            "would mix currencies in one account.",
        ),
        CodeInfo(
            _C.AMOUNT_MISMATCH,
            _C.AMOUNT_MISMATCH.label,
            _S.HIGH,
            _B,
            "Amounts that must agree do not (line totals against the document total, or one system "
            "against another); the books would disagree with the source.",
        ),
        CodeInfo(
            _C.DUPLICATE_DOCUMENT,
            _C.DUPLICATE_DOCUMENT.label,
            _S.MEDIUM,
            _B,
            "A document with the same number or key already exists; accepting it again would bill or "
            "record cash twice.",
        ),
        CodeInfo(
            _C.LATE_USAGE,
            _C.LATE_USAGE.label,
            _S.LOW,
            _B,
            "Usage arrived for a billing period that is already invoiced or closed; it needs to be "
            "billed in a later period or on an adjustment, or it is revenue lost.",
        ),
        CodeInfo(
            _C.OWNERSHIP_CONFLICT,
            _C.OWNERSHIP_CONFLICT.label,
            _S.LOW,
            _B,
            "A system tried to change a field that another system is authoritative for; the change "
            "was not applied and someone must decide which value is right.",
        ),
        CodeInfo(
            _C.ERP_REJECTED,
            _C.ERP_REJECTED.label,
            _S.HIGH,
            _B,
            "The ERP refused the posting (closed period, missing account, invalid dimension); the "
            "general ledger is missing this document until it is corrected and posted again.",
        ),
        CodeInfo(
            _C.DEAD_LETTER,
            _C.DEAD_LETTER.label,
            _S.HIGH,
            Kind.DEAD_LETTER,
            "A step kept failing for a technical reason (timeouts, outages) and its automatic retries "
            "are exhausted; the record is not processed until someone retries it.",
        ),
        CodeInfo(
            _C.RECONCILIATION_BREAK,
            _C.RECONCILIATION_BREAK.label,
            _S.MEDIUM,
            _B,
            "A reconciliation run found records that should match across systems but do not; one "
            "side is missing, late or wrong.",
        ),
        CodeInfo(
            _C.STATEMENT_UNBALANCED,
            _C.STATEMENT_UNBALANCED.label,
            _S.CRITICAL,
            _B,
            "The bank statement's opening balance plus its transactions does not equal its closing "
            "balance; cash cannot be reconciled from an incomplete or corrupt statement.",
        ),
        CodeInfo(
            _C.VALIDATION_FAILED,
            _C.VALIDATION_FAILED.label,
            _S.MEDIUM,
            _B,
            "The record broke a validation rule (a missing or malformed field); it was not accepted "
            "and waits for corrected data.",
        ),
    )
}


def code_info(code: str) -> CodeInfo:
    try:
        return CODES[code]
    except KeyError:
        raise ValueError(f"{code!r} is not an exception code; see exceptions_queue.codes.") from None


# Dedupe keys fit a 255-character column; longer ones keep a readable prefix and a hash.
DEDUPE_KEY_MAX = 255


def object_ref(obj: models.Model | str) -> str:
    """A stable name for what an exception is about: `app.model:pk` for a model
    instance, or a caller-given string such as `stripe:invoice:in_123`."""
    if isinstance(obj, models.Model):
        if obj.pk is None:
            raise ValueError("An unsaved object cannot name an exception.")
        return f"{obj._meta.label_lower}:{obj.pk}"
    ref = str(obj).strip()
    if not ref:
        raise ValueError("An exception needs the object it concerns.")
    return ref


def make_dedupe_key(code: str, obj: models.Model | str, rule: str = "") -> str:
    """code + object + rule: the same problem with the same object under the same
    rule is one open exception, however often it is seen."""
    code_info(code)
    key = "|".join([code, object_ref(obj), rule.strip()])
    if len(key) <= DEDUPE_KEY_MAX:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[: DEDUPE_KEY_MAX - len(digest) - 1]}#{digest}"
