"""Bank statement parsers: the format is told from the content, never the name."""

from __future__ import annotations

import re

from reconciliation.statements.parsers import bai2, camt, mt940
from reconciliation.statements.parsers.types import Statement, StatementParseError

BAI2_START = re.compile(rb"^\s*\d\d,")
MT940_MARK = re.compile(rb"(^|\n|\{4:\s*)\s*:20:")

FAMILIES = {"camt": camt.parse, "bai2": bai2.parse, "mt940": mt940.parse}


def sniff(content: bytes) -> str:
    """'camt', 'bai2' or 'mt940', from the first bytes of the file."""
    head = content.lstrip(b"\xef\xbb\xbf \t\r\n\x01")
    if not head:
        raise StatementParseError("The file is empty.")
    if head.startswith(b"<"):
        return "camt"
    if BAI2_START.match(head):
        return "bai2"
    if MT940_MARK.search(content[:4096]):
        return "mt940"
    raise StatementParseError(
        "This is not a bank statement revops can read: expected camt.052/.053/.054 XML (starting with <), "
        "BAI2 (starting with a record such as 01,) or MT940/MT942 (with a :20: line)."
    )


def parse_statements(content: bytes) -> tuple[str, list[Statement]]:
    family = sniff(content)
    return family, FAMILIES[family](content)


__all__ = ["Statement", "StatementParseError", "parse_statements", "sniff"]
