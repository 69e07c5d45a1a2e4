"""Ingest throughput: N synthetic records through the real sync pipeline.

A synthetic connector kind serves customers and invoices (two lines each, one
invoice per customer) in pages of 500. They go through the same engine as any
connector: raw store, mapping, validation, canonical writes through the
services with history and business events, cursor commits. The same run also
times plain per-row Django `save()` of the same number of customer rows (no
history, no services) as the baseline, and profiles a slice of the pipeline to
say where the time goes.

    uv run python benchmarks/ingest.py                   # 100,000 records
    uv run python benchmarks/ingest.py --records 20000   # quicker

Uses a PostgreSQL database whose name contains "bench" (default
postgres://postgres@127.0.0.1:5432/revops_bench_ingest; created if missing,
emptied otherwise).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from list_pages import _ensure_database, _production_like_environment  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/revops_bench_ingest"
PAGE = 500


def _synthetic_kind(total: int):
    import datetime as dt
    from decimal import Decimal

    from connectors import records as r
    from connectors.base import ConnectorKind, Page, RawRecord, register_kind

    customers = total // 2
    invoices = total - customers

    @register_kind
    class SyntheticKind(ConnectorKind):
        key = "synthetic"
        label = "Synthetic source (benchmark)"
        streams = ("customer", "invoice")
        needs_base_url = False

        def test_connection(self) -> str:
            return "synthetic"

        def fetch(self, stream, cursor, *, full):
            start = (cursor or {}).get("offset", 0)
            limit = customers if stream == "customer" else invoices
            end = min(start + PAGE, limit)
            records = [self._record(stream, i) for i in range(start, end)]
            return Page(records, {"offset": end}, done=end >= limit)

        def _record(self, stream, i):
            if stream == "customer":
                payload = {"id": f"cus_{i:08d}", "name": f"Synthetic Customer {i:08d} Ltd", "currency": "USD"}
                return RawRecord("customer", payload["id"], payload, "customer", "000000000001")
            payload = {
                "id": f"in_{i:08d}",
                "number": f"SYN-{i:08d}",
                "customer": f"cus_{i % customers:08d}",
                "lines": [["Platform fee", "100.00", "8.00"], ["Seats", "250.00", "20.00"]],
            }
            return RawRecord("invoice", payload["id"], payload, "invoice", "000000000001")

        def map(self, raw):
            p = raw.payload
            if raw.object_type == "customer":
                return r.CustomerRecord(external_id=p["id"], name=p["name"], currency=p["currency"])
            lines = tuple(
                r.InvoiceLineRecord(
                    d, Decimal(1), Decimal(a), Decimal(a), tax_amount=Decimal(t), tax_rate=Decimal(8)
                )
                for d, a, t in p["lines"]
            )
            subtotal = sum(line.amount for line in lines)
            tax = sum(line.tax_amount for line in lines)
            return r.InvoiceRecord(
                external_id=p["id"],
                number=p["number"],
                customer_external_id=p["customer"],
                currency="USD",
                status="open",
                tax_mode="exclusive",
                issue_date=dt.date(2026, 3, 1),
                due_date=dt.date(2026, 3, 31),
                subtotal=subtotal,
                tax_total=tax,
                total=subtotal + tax,
                amount_paid=Decimal(0),
                lines=lines,
            )

    return SyntheticKind


def _empty_tables():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND "
            "(tablename LIKE 'revops_%%' OR tablename LIKE 'connectors_%%' OR tablename LIKE 'exceptions_queue_%%')"
        )
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--profile-records", type=int, default=2_000)
    args = parser.parse_args()

    _ensure_database(args.database_url)
    _production_like_environment(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)
    from connectors import engine
    from connectors.models import Connector
    from revops.models import Customer, LegalEntity

    _synthetic_kind(args.records)

    # Baseline: plain per-row save() of the same number of rows, one transaction.
    _empty_tables()
    entity = LegalEntity.objects.create(
        code="US01", name="Bench Inc.", country="US", functional_currency="USD"
    )
    started = time.perf_counter()
    with transaction.atomic():
        for i in range(args.records):
            Customer(
                number=f"B{i:08d}", name=f"Baseline {i}", legal_entity=entity, currency="USD", country="US"
            ).save()
    baseline = args.records / (time.perf_counter() - started)

    # The pipeline.
    _empty_tables()
    entity = LegalEntity.objects.create(
        code="US01", name="Bench Inc.", country="US", functional_currency="USD"
    )
    connector = Connector.objects.create(name="synthetic", kind="synthetic", legal_entity=entity)
    run = engine.run_create(connector=connector, trigger="manual")
    started = time.perf_counter()
    run = engine.execute_run(run.pk)
    elapsed = time.perf_counter() - started
    pipeline = run.read / elapsed

    print(
        f"records: {run.read:,} ({run.created:,} created, {run.business_errors} business errors), status {run.status}"
    )
    print(
        f"pipeline (raw store + map + services + history + events): {pipeline:,.0f} records/s ({elapsed:.1f} s)"
    )
    print(f"baseline (plain per-row Django save(), no history):       {baseline:,.0f} rows/s")
    print(f"ratio pipeline / baseline: {pipeline / baseline:.2f}")

    # Where the time goes: profile a fresh slice.
    _empty_tables()
    _synthetic_kind.__globals__  # noqa: B018 - keep the kind registered
    entity = LegalEntity.objects.create(
        code="US01", name="Bench Inc.", country="US", functional_currency="USD"
    )
    connector = Connector.objects.create(name="synthetic", kind="synthetic", legal_entity=entity)
    from connectors.base import _KINDS

    _KINDS.pop("synthetic")
    _synthetic_kind(args.profile_records)
    run = engine.run_create(connector=connector, trigger="manual")
    profile = cProfile.Profile()
    profile.enable()
    engine.execute_run(run.pk)
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).sort_stats("cumulative")
    stats.print_stats(r"(connectors|revops|simple_history|django/db/models/(base|query)|psycopg/cursor)", 25)
    print("\nwhere the time goes (cumulative, profiled slice):")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])


if __name__ == "__main__":
    main()
