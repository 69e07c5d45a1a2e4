"""Ingest throughput: N synthetic records through the real sync pipeline.

A synthetic connector kind serves customers and invoices (two lines each, one
invoice per customer) in pages of 500. They go through the same engine as any
connector: raw store, mapping, validation, canonical writes through the
services with history and business events, cursor commits (new records take
the engine's set-based path, `connectors.bulk`; consecutive pages share a
transaction up to REVOPS_SYNC_BATCH_RECORDS records, `--batch`). The same run
also times plain per-row Django `save()` of customer rows (no services; the
history row simple_history's signal adds is included) as the baseline. History
rows are copied by the server from the rows just written (INSERT … SELECT).

Besides wall-clock rates, it reports the CPU each record costs (this Python
process plus its PostgreSQL backend) beside the CPU a baseline row costs: on a
machine other work keeps busy, CPU time moves much less than elapsed time.

Where the time goes is measured, not estimated: each phase is timed where it
happens (the bulk path and services time their own phases, this script wraps
the engine's fetch, one-by-one path, page commit and transaction commit), and
the phases exclude one another, so they add up to the run's time; "other" is
what no phase covers. A cProfile of a small slice lists the hottest functions.

    uv run python benchmarks/ingest.py                        # 100,000 records
    uv run python benchmarks/ingest.py --records 100000 --repeat 3   # medians of 3
    uv run python benchmarks/ingest.py --records 20000        # quicker

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
import statistics
import time
from pathlib import Path

from _bench import load_average, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/revops_bench_ingest"
PAGE = 500


def _synthetic_kind(total: int, page: int = PAGE, *, distinct: bool = False):
    """The synthetic connector kind; with `distinct`, each connector's ids and
    numbers carry its own id, so several connectors can load side by side."""
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
            end = min(start + page, limit)
            records = [self._record(stream, i) for i in range(start, end)]
            return Page(records, {"offset": end}, done=end >= limit)

        def _record(self, stream, i):
            tag = f"k{self.connector.pk}_" if distinct else ""
            if stream == "customer":
                payload = {
                    "id": f"{tag}cus_{i:08d}",
                    "name": f"Synthetic Customer {tag}{i:08d} Ltd",
                    "currency": "USD",
                }
                return RawRecord("customer", payload["id"], payload, "customer", "000000000001")
            payload = {
                "id": f"{tag}in_{i:08d}",
                "number": f"SYN-{tag}{i:08d}",
                "customer": f"{tag}cus_{i % customers:08d}",
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


PHASES = [
    ("fetch", "fetch (synthetic source)"),
    ("hash", "content hashes"),
    ("prefetch", "prefetch (raw store, versions, refs)"),
    ("map", "map"),
    ("plan", "plan (split new / one by one)"),
    ("validate", "validate (service rules)"),
    ("ids", "reserve ids (one nextval query a batch)"),
    ("canonical", "canonical rows + lines (COPY)"),
    ("history", "history rows (INSERT … SELECT)"),
    ("events", "business events (COPY)"),
    ("listeners", "event listeners (e.g. ERP postings)"),
    ("refs", "external ids (COPY)"),
    ("raw store", "raw store + source versions (COPY)"),
    ("analyze", "ANALYZE of looked-up tables as they grow"),
    ("one by one", "one-by-one path (leftovers)"),
    ("page commit", "page commit (cursor, run counts)"),
    ("commit", "transaction commit (deferred FK checks)"),
]


def _instrument(kind_class):
    """Time the engine's steps the bulk path does not time itself, and count
    statements: everything Django executes plus the COPYs."""
    from django.db import connection

    from connectors import engine

    fetch = kind_class.fetch
    kind_class.fetch = lambda self, *a, **k: _timed_call("fetch", fetch, self, *a, **k)
    one = engine.process_one
    engine.process_one = lambda *a, **k: _timed_call("one by one", one, *a, **k)
    commit_page = engine._commit_page
    engine._commit_page = lambda *a, **k: _timed_call("page commit", commit_page, *a, **k)
    commit = connection.commit
    connection.commit = lambda: _timed_call("commit", commit)
    statements = [0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    connection.execute_wrappers.append(count)
    return statements


def _timed_call(phase, function, *args, **kwargs):
    from revops.services.bulk_rows import timed

    with timed(phase):
        return function(*args, **kwargs)


def _baseline(records: int) -> tuple[float, float]:
    """Plain per-row save() of customers in one transaction (Customer is
    history-tracked, so simple_history's signal adds one history row each):
    rows/s and CPU seconds per row (Python and its PostgreSQL backend)."""
    from django.db import transaction

    from revops.models import Customer, LegalEntity

    _empty_tables()
    entity = LegalEntity.objects.create(
        code="US01", name="Bench Inc.", country="US", functional_currency="USD"
    )
    backend = _backend_cpu()
    python = time.process_time()
    started = time.perf_counter()
    with transaction.atomic():
        for i in range(records):
            Customer(
                number=f"B{i:08d}", name=f"Baseline {i}", legal_entity=entity, currency="USD", country="US"
            ).save()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - python + (_backend_cpu() - backend if backend is not None else 0.0)
    return records / elapsed, cpu / records


def _backend_cpu() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend, when it
    runs on this machine (None otherwise)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# Statements the bulk path runs on psycopg cursors of its own, which Django's
# execute wrappers do not see.
_OWN_CURSOR = ("copy", "history", "lookup", "server insert")


def _pipeline(statements):
    from connectors import engine
    from connectors.models import Connector
    from revops.models import LegalEntity
    from revops.services import bulk_rows
    from revops.services.bulk_rows import CPU_TIMINGS, STATEMENTS, TIMINGS

    _empty_tables()
    bulk_rows._GROWTH.clear()  # each run starts as a fresh worker would: tables analyzed again as they grow
    entity = LegalEntity.objects.create(
        code="US01", name="Bench Inc.", country="US", functional_currency="USD"
    )
    connector = Connector.objects.create(name="synthetic", kind="synthetic", legal_entity=entity)
    run = engine.run_create(connector=connector, trigger="manual")
    TIMINGS.clear()
    CPU_TIMINGS.clear()
    STATEMENTS.clear()
    statements[0] = 0
    backend = _backend_cpu()
    python = time.process_time()
    started = time.perf_counter()
    run = engine.execute_run(run.pk)
    elapsed = time.perf_counter() - started
    python = time.process_time() - python
    backend = _backend_cpu() - backend if backend is not None else None
    cpu = {"python": python, "postgres": backend, "phases": dict(CPU_TIMINGS)}
    return (
        run,
        elapsed,
        dict(TIMINGS),
        statements[0] + STATEMENTS["copy"] + STATEMENTS["history"] + STATEMENTS["lookup"],
        cpu,
    )


def _parallel(records: int, connectors: int, page: int) -> tuple[float, float, float]:
    """`connectors` synthetic connectors, `records` // `connectors` records each,
    synced at the same time, each by its own process (as Django-Q2 workers run
    one sync run per connector): the aggregate records/s from the first start
    to the last end, the elapsed seconds, and the CPU a record costs (the
    processes and their PostgreSQL backends)."""
    import multiprocessing

    from django.db import connections

    from connectors import engine
    from connectors.base import _KINDS
    from connectors.models import Connector
    from revops.models import LegalEntity

    _KINDS.pop("synthetic", None)
    _synthetic_kind(records // connectors, page, distinct=True)
    _empty_tables()
    entity = LegalEntity.objects.create(
        code="US01", name="Bench Inc.", country="US", functional_currency="USD"
    )
    runs = [
        engine.run_create(
            connector=Connector.objects.create(name=f"synthetic {k}", kind="synthetic", legal_entity=entity),
            trigger="manual",
        ).pk
        for k in range(1, connectors + 1)
    ]
    connections.close_all()  # each process opens its own
    context = multiprocessing.get_context("fork")
    ready, results = context.Barrier(connectors), context.Queue()
    workers = [context.Process(target=_sync_worker, args=(run_id, ready, results)) for run_id in runs]
    for worker in workers:
        worker.start()
    done = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    if any(read is None for read, *_ in done):
        raise SystemExit("a parallel sync run did not finish")
    read = sum(row[0] for row in done)
    elapsed = max(row[2] for row in done) - min(row[1] for row in done)
    return read / elapsed, elapsed, sum(row[3] for row in done) / read


def _sync_worker(run_id: int, ready, results) -> None:
    """One connector's sync run in this process, started with the others."""
    from django.db import connection

    from connectors import engine
    from revops.services import bulk_rows

    bulk_rows._GROWTH.clear()
    try:
        connection.ensure_connection()
        backend = _backend_cpu() or 0.0
        ready.wait()
        python, started = time.process_time(), time.monotonic()
        run = engine.execute_run(run_id)
        ended = time.monotonic()
        cpu = time.process_time() - python + (_backend_cpu() or 0.0) - backend
        results.put((run.read if run and run.status == "succeeded" else None, started, ended, cpu))
    except BaseException:
        results.put((None, 0.0, 0.0, 0.0))
        raise
    finally:
        connection.close()


def _report_parallel(args, single: float, single_cpu: float) -> None:
    k = args.connectors
    rates, elapsed, cpus = [], [], []
    for attempt in range(1, args.repeat + 1):
        rate, seconds, cpu = _parallel(args.records, k, args.page)
        rates.append(rate)
        elapsed.append(seconds)
        cpus.append(cpu)
        print(
            f"parallel run {attempt}: {k} connectors in parallel ({k} processes, {args.records // k:,} records "
            f"each) in {seconds:.1f} s = {rate:,.0f} records/s together, {cpu * 1e6:,.0f} µs CPU a record"
        )
    rate = statistics.median(rates)
    print(
        f"{k} CONNECTORS IN PARALLEL ({k} sync runs at once, one process each, as {k} Django-Q2 workers "
        f"would run them), median of {args.repeat}: {rate:,.0f} records/s together, against "
        f"{single:,.0f} records/s for one connector in this invocation ({rate / single:.2f}×); "
        f"{statistics.median(cpus) * 1e6:,.0f} µs CPU a record against {single_cpu * 1e6:,.0f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument(
        "--page", type=int, default=PAGE, help="records per source page (one transaction each)"
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=None,
        help="records of consecutive pages per transaction (REVOPS_SYNC_BATCH_RECORDS; default: its setting)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; medians are reported")
    parser.add_argument(
        "--connectors",
        type=int,
        default=1,
        help="also sync the records split across K connectors at the same time, one process each, "
        "and print their aggregate rate beside the single connector's (default 1: no parallel runs)",
    )
    parser.add_argument("--profile-records", type=int, default=2_000, help="0: no profile")
    parser.add_argument(
        "--baseline-records",
        type=int,
        default=None,
        help="rows of the per-row baseline (default: --records; 0: none)",
    )
    args = parser.parse_args()

    batch = {} if args.batch is None else {"REVOPS_SYNC_BATCH_RECORDS": str(args.batch)}
    setup_django(args.database_url, **batch)
    from connectors.base import _KINDS

    statements = _instrument(_synthetic_kind(args.records, args.page))
    from django.conf import settings

    print(f"machine: {os.cpu_count()} cores, load average {load_average()}")
    print(
        f"source pages of {args.page:,} records, up to {settings.REVOPS_SYNC_BATCH_RECORDS:,} records "
        "a transaction"
    )

    baselines, baseline_cpus, rates, cpus, phases = [], [], [], [], []
    for attempt in range(1, args.repeat + 1):
        baseline_records = args.records if args.baseline_records is None else args.baseline_records
        rate, per_row = _baseline(baseline_records) if baseline_records else (float("nan"), float("nan"))
        baselines.append(rate)
        baseline_cpus.append(per_row)
        run, elapsed, timings, executed, cpu = _pipeline(statements)
        rates.append(run.read / elapsed)
        cpus.append((cpu["python"] + (cpu["postgres"] or 0.0)) / run.read)
        phases.append((elapsed, timings, cpu))
        print(
            f"run {attempt}: {run.read:,} records ({run.created:,} created, {run.business_errors} business "
            f"errors, status {run.status}) in {elapsed:.1f} s = {rates[-1]:,.0f} records/s, "
            f"{cpus[-1] * 1e6:,.0f} µs CPU a record; {executed / run.read:.3f} SQL statements per record; "
            f"baseline {baselines[-1]:,.0f} rows/s, {baseline_cpus[-1] * 1e6:,.0f} µs CPU a row"
        )
    pipeline, baseline = statistics.median(rates), statistics.median(baselines)
    cpu_record, cpu_row = statistics.median(cpus), statistics.median(baseline_cpus)
    print(
        f"pipeline (raw store + map + services + history + events), median of {args.repeat}: "
        f"{pipeline:,.0f} records/s"
    )
    print(
        f"baseline (plain per-row Django save() of a customer), median of {args.repeat}: {baseline:,.0f} rows/s"
    )
    print(f"ratio pipeline / baseline: {pipeline / baseline:.2f}")
    print(
        f"CPU (Python + its PostgreSQL backend), medians: {cpu_record * 1e6:,.0f} µs a record against "
        f"{cpu_row * 1e6:,.0f} µs a baseline row (ratio {cpu_row / cpu_record:.2f}); Python and PostgreSQL "
        f"take turns, so on an idle machine about {1 / cpu_record:,.0f} records/s"
    )
    if args.connectors > 1:
        _report_parallel(args, pipeline, cpu_record)
    print(f"machine after the runs: load average {load_average()}")

    elapsed, timings, cpu = sorted(phases, key=lambda p: p[0])[len(phases) // 2]
    postgres = f"{cpu['postgres']:.1f} s" if cpu["postgres"] is not None else "not measurable (remote server)"
    print(
        f"\nwhere the time goes (median run, {elapsed:.1f} s): CPU of this Python process {cpu['python']:.1f} s, "
        f"of its PostgreSQL backend {postgres}; by phase, elapsed and the Python CPU in it (the rest is "
        "waiting, for PostgreSQL or for a core):"
    )
    accounted = cpu_accounted = 0.0
    for key, label in PHASES:
        seconds, python = timings.get(key, 0.0), cpu["phases"].get(key, 0.0)
        accounted += seconds
        cpu_accounted += python
        print(f"  {label:<40} {seconds:7.2f} s  {100 * seconds / elapsed:5.1f} %   Python {python:6.2f} s")
    rest, python = elapsed - accounted, cpu["python"] - cpu_accounted
    print(
        f"  {'other (engine loop, savepoints, runs)':<40} {rest:7.2f} s  {100 * rest / elapsed:5.1f} %"
        f"   Python {python:6.2f} s"
    )

    if args.profile_records:
        # The hottest functions, on a fresh slice.
        _KINDS.pop("synthetic")
        _synthetic_kind(args.profile_records)
        profile = cProfile.Profile()
        profile.enable()
        _pipeline(statements)
        profile.disable()
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).sort_stats("tottime")
        stats.print_stats(15)
        print(f"\nhottest functions (own time, profiled slice of {args.profile_records:,} records):")
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:5000])


if __name__ == "__main__":
    main()
