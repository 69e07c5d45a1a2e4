"""The `:86:` information to account owner of an MT940 statement line.

Three shapes are common: the German structured field (a three-digit business
transaction code, then `?NN` subfields: ?00 posting text, ?20–?29 and ?60–?63
purpose, ?30 bank code, ?31 account, ?32–?33 name), Dutch and SWIFT `/KEY/value`
pairs (/EREF/, /NAME/, /REMI/, …), and free text. Structured fields are wrapped
at fixed widths, so their lines are joined without a separator.
"""

from __future__ import annotations

import re

from reconciliation.statements.parsers.types import CREDIT, Entry

GERMAN = re.compile(r"^(?P<code>\d{3})(?P<sep>[?>])\d{2}")
SEPA_KEYS = ("EREF", "KREF", "MREF", "CRED", "DEBT", "SVWZ", "ABWA", "ABWE", "IBAN", "BIC")
SEPA_KEY = re.compile(r"(?<![A-Z])(" + "|".join(SEPA_KEYS) + r")\+")
SEPA_LINE_KEY = re.compile(r"^(" + "|".join(SEPA_KEYS) + r")\+|^(MTLG):")
SLASH_KEYS = (
    "EREF",
    "MARF",
    "CSID",
    "BENM",
    "ORDP",
    "NAME",
    "ADDR",
    "REMI",
    "ISDT",
    "RTRN",
    "TRCD",
    "PURP",
    "CNTP",
    "IBAN",
    "BIC",
    "ID",
    "CDTRREF",
    "CDTRREFTP",
    "ULTB",
    "ULTD",
    "PREF",
    "IREF",
)
SLASH = re.compile(r"/(" + "|".join(SLASH_KEYS) + r")/")
CREDITOR_REFERENCE = re.compile(r"\bRF\d{2}[A-Z0-9]{1,21}\b")


def apply_details(entry: Entry, lines: list[str]) -> None:
    if not lines:
        return
    joined = "".join(line.strip("\r") for line in lines if line != "\n").lstrip()
    match = GERMAN.match(joined)
    if match:
        _german(entry, joined, match["code"], match["sep"])
    elif SLASH.match(joined.strip()):
        _slash(entry, joined.strip())
    else:
        text = " ".join(" ".join(line.split()) for line in lines if line.strip())
        entry.remittance_info = text
    entry.raw["information"] = "\n".join(line for line in lines if line != "\n")


def _german(entry: Entry, text: str, code: str, sep: str) -> None:
    subfields: dict[str, str] = {}
    for part in text.split(sep)[1:]:
        key, value = part[:2], part[2:]
        subfields[key] = subfields.get(key, "") + value
    entry.bank_transaction_code = f"{entry.bank_transaction_code}/{code}".lstrip("/")
    lines = [subfields.get(f"{n}", "") for n in [*range(20, 30), *range(60, 64)]]
    purpose = "".join(lines)
    sepa = _sepa(lines)
    entry.end_to_end_id = sepa.get("EREF", entry.end_to_end_id)
    entry.remittance_info = sepa.get("SVWZ") or SEPA_KEY.sub("", purpose).strip() or subfields.get("00", "")
    reference = CREDITOR_REFERENCE.search(purpose)
    if reference:
        entry.structured_reference = reference.group(0)
    entry.counterparty_name = " ".join(
        value.strip() for value in (subfields.get("32", ""), subfields.get("33", "")) if value.strip()
    )
    # ?38 carries the IBAN where the bank gives one, ?31 the domestic account number.
    entry.counterparty_account = (subfields.get("38") or subfields.get("31", "")).strip()
    entry.raw["subfields"] = subfields


def _sepa(lines: list[str]) -> dict[str, str]:
    """SEPA keys (EREF+, SVWZ+, …) start a purpose line; the lines after one
    continue its value until the next key."""
    values: dict[str, str] = {}
    key = ""
    for line in lines:
        match = SEPA_LINE_KEY.match(line)
        if match:
            key = match.group(1) or "SVWZ"  # MTLG: a message, read as the purpose
            line = line[match.end() :]
        if key:
            values[key] = values.get(key, "") + line
    return {name: value.strip() for name, value in values.items()}


def _slash(entry: Entry, text: str) -> None:
    parts = SLASH.split(text)
    values: dict[str, str] = {}
    for i in range(1, len(parts) - 1, 2):
        values.setdefault(parts[i], parts[i + 1].strip("/ ").strip())
    entry.end_to_end_id = values.get("EREF", "") or entry.end_to_end_id
    entry.remittance_info = values.get("REMI", "")
    entry.structured_reference = values.get("CDTRREF", "")
    entry.counterparty_name = values.get("NAME", "")
    party = "ORDP" if entry.direction == CREDIT else "BENM"
    entry.counterparty_account = values.get("IBAN", "") or values.get(party, "")
    if not entry.counterparty_account and re.fullmatch(
        r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", entry.raw.get("supplementary", "")
    ):
        entry.counterparty_account = entry.raw["supplementary"]
    entry.raw["keys"] = values
