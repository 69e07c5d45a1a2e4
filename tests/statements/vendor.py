"""The vendor bank statement samples kept with the tests (tests/fixtures/vendor/bank)."""

from __future__ import annotations

from pathlib import Path

BANK = Path(__file__).resolve().parent.parent / "fixtures" / "vendor" / "bank"


def sample(name: str) -> bytes:
    """`name` is "<format folder>/<file>", e.g. "camt/FI_camt_053_sample.xml.xml"."""
    return (BANK / name).read_bytes()


def all_samples() -> list[str]:
    return sorted(
        f"{path.parent.name}/{path.name}" for path in BANK.glob("*/*") if not path.name.startswith("LICENSE")
    )
