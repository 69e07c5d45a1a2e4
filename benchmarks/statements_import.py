"""Importing bank statement files: how long a statement of N entries takes to
read and to store, per format.

Builds one camt.053, one MT940 and one BAI2 file of N entries each (default
5,000; amounts and references vary so every entry is distinct), then for each
format, three times: parses it (the baseline, pure Python) and imports it
through `statement_import` (parse, check, store with history) into a dedicated
PostgreSQL database whose name must contain "bench" (its statements are
emptied between runs). Prints the medians as JSON, with the ratio of import to
parse and entries per second.

    uv run python benchmarks/statements_import.py                # 5,000 entries
    uv run python benchmarks/statements_import.py --entries 1000

The database defaults to postgres://postgres@127.0.0.1:5432/revops_bench_statements
(--database-url); it is created and migrated if needed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
from decimal import Decimal

from _bench import setup_django, timed_ms

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/revops_bench_statements"
RUNS = 3
DAY = dt.date(2026, 3, 31)


def _amounts(entries: int) -> list[tuple[str, Decimal]]:
    """Alternating credits and debits with varied cents, debits slightly smaller."""
    return [
        ("C" if n % 2 == 0 else "D", Decimal(1000 + n % 997) + Decimal(n % 100) / 100) for n in range(entries)
    ]


def _closing(opening: Decimal, amounts) -> Decimal:
    return opening + sum((a if mark == "C" else -a for mark, a in amounts), Decimal(0))


def camt_file(entries: int) -> bytes:
    opening = Decimal("100000.00")
    amounts = _amounts(entries)
    closing = _closing(opening, amounts)
    rows = []
    for n, (mark, amount) in enumerate(amounts):
        rows.append(
            f'<Ntry><Amt Ccy="EUR">{amount:.2f}</Amt><CdtDbtInd>{"CRDT" if mark == "C" else "DBIT"}</CdtDbtInd>'
            f"<Sts>BOOK</Sts><BookgDt><Dt>{DAY}</Dt></BookgDt><ValDt><Dt>{DAY}</Dt></ValDt>"
            f"<AcctSvcrRef>BANKREF{n:08d}</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd>"
            f"<SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd><NtryDtls><TxDtls><Refs>"
            f"<EndToEndId>E2E-{n:08d}</EndToEndId></Refs><RltdPties><Dbtr><Nm>Customer {n % 500}</Nm></Dbtr>"
            f"<DbtrAcct><Id><IBAN>DE89370400440532013{n % 1000:03d}</IBAN></Id></DbtrAcct></RltdPties>"
            f"<RmtInf><Ustrd>Invoice INV-{n:08d}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        )

    def balance(code: str, value: Decimal) -> str:
        mark = "CRDT" if value >= 0 else "DBIT"
        return (
            f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{abs(value):.2f}</Amt>'
            f"<CdtDbtInd>{mark}</CdtDbtInd><Dt><Dt>{DAY}</Dt></Dt></Bal>"
        )

    return (
        '<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
        "<BkToCstmrStmt><GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-04-01T06:00:00</CreDtTm></GrpHdr>"
        "<Stmt><Id>BENCH-CAMT</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        + balance("OPBD", opening)
        + balance("CLBD", closing)
        + "".join(rows)
        + "</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def mt940_file(entries: int) -> bytes:
    opening = Decimal("100000.00")
    amounts = _amounts(entries)
    closing = _closing(opening, amounts)
    day = DAY.strftime("%y%m%d")
    lines = [
        ":20:BENCH-MT940",
        ":25:NL91ABNA0417164300",
        ":28C:1/1",
        f":60F:C{day}EUR{opening:.2f}".replace(".", ","),
    ]
    for n, (mark, amount) in enumerate(amounts):
        lines.append(
            f":61:{day}{day[2:]}{mark}{amount:.2f}NTRFE2E-{n:08d}//BANKREF{n:08d}".replace(".", ",", 1)
        )
        lines.append(
            f":86:166?00GUTSCHRIFT?20EREF+E2E-{n:08d}?21SVWZ+Invoice INV-{n:08d}?32Customer {n % 500}"
        )
    mark = "C" if closing >= 0 else "D"
    lines.append(f":62F:{mark}{day}EUR{abs(closing):.2f}".replace(".", ","))
    lines.append("-")
    return "\n".join(lines).encode()


def bai2_file(entries: int) -> bytes:
    amounts = _amounts(entries)
    day = DAY.strftime("%y%m%d")
    details = []
    total = 0
    for n, (mark, amount) in enumerate(amounts):
        cents = int(amount * 100)
        total += cents
        details.append(
            f"16,{'195' if mark == 'C' else '495'},{cents},0,BANKREF{n:08d},E2E-{n:08d},Invoice INV-{n:08d}/"
        )
    opening = 10_000_000
    credits = sum(int(a * 100) for m, a in amounts if m == "C")
    debits = sum(int(a * 100) for m, a in amounts if m == "D")
    closing = opening + credits - debits
    account_total = opening + closing + credits + debits + total
    account = [f"03,123456789,USD,010,{opening},,,015,{closing},,,100,{credits},,,400,{debits},,/", *details]
    account.append(f"49,{account_total},{len(account) + 1}/")
    records = [f"01,BANK,BENCH,{day},0600,1,,,2/", f"02,BENCH,BANK,1,{day},0600,USD,2/", *account]
    records.append(f"98,{account_total},1,{len(account) + 2}/")
    records.append(f"99,{account_total},1,{len(records) + 1}/")
    return "\n".join(records).encode()


def _median(action, setup=None) -> float:
    """Median seconds of RUNS calls of `action`, `setup` untimed before each."""
    return statistics.median(timed_ms(action, RUNS, setup=setup)) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=5_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args()

    # A large --entries builds files above the default 10 MB statement limit.
    setup_django(args.database_url, REVOPS_STATEMENT_MAX_BYTES=str(200 * 1_048_576))
    from exceptions_queue.models import ExceptionItem
    from reconciliation.statements.models import BankEntry, BankStatement, StatementFile
    from reconciliation.statements.parsers import parse_statements
    from reconciliation.statements.services import statement_import
    from revops.actors import Actor

    actor = Actor.for_system("bank", "statements benchmark")

    def empty() -> None:
        BankEntry.history.all().delete()
        BankEntry.objects.all().delete()
        BankStatement.history.all().delete()
        BankStatement.objects.all().delete()
        StatementFile.history.all().delete()
        StatementFile.objects.all().delete()
        ExceptionItem.objects.filter(code="STATEMENT_UNBALANCED").delete()

    figures = {}
    for name, build in (("camt.053", camt_file), ("mt940", mt940_file), ("bai2", bai2_file)):
        content = build(args.entries)
        _family, [statement] = parse_statements(content)
        assert len(statement.entries) == args.entries, name
        parse_s = _median(lambda content=content: parse_statements(content))

        def import_once(content=content, name=name) -> None:
            result = statement_import(content=content, filename=f"bench.{name}", actor=actor)
            stored = result.statements[0].statement
            assert stored.entry_count == args.entries and stored.balanced, name

        import_s = _median(import_once, setup=empty)
        figures[name] = {
            "bytes": len(content),
            "parse_s": round(parse_s, 3),
            "import_s": round(import_s, 3),
            "import_to_parse": round(import_s / parse_s, 1),
            "entries_per_s_imported": round(args.entries / import_s),
        }
    empty()
    print(json.dumps({"entries": args.entries, "runs": RUNS, "medians": figures}, indent=2))


if __name__ == "__main__":
    main()
