"""Cash-application matching quality: precision and recall of the rules on
seeded, realistic bank credits against invoices (see reconciliation/scoring).

    uv run python benchmarks/cash_matching.py                 # seed 7, 4,000 invoices
    uv run python benchmarks/cash_matching.py --seed 11 --invoices 20000

Only temporary tables are used, so any database does: DATABASE_URL if set,
otherwise the embedded SQLite database.
Targets: automatic matches at least 99.5 % precise; at least 85 % of true
matches found automatically or suggested.
"""

from __future__ import annotations

import argparse
import sys
import time

from _bench import django_setup


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--invoices", type=int, default=4_000)
    parser.add_argument("--customers", type=int, default=400)
    args = parser.parse_args()
    django_setup()
    from reconciliation.scoring.generator import generate
    from reconciliation.scoring.scorer import score

    data = generate(seed=args.seed, invoices=args.invoices, customers=args.customers)
    started = time.perf_counter()
    result = score(data)
    took = time.perf_counter() - started
    print(
        f"seed {args.seed}: {len(data.entries):,} bank credits, {len(data.invoices):,} invoices, "
        f"{result.truth:,} true credit ⇄ invoice pairs; matched in {took:.2f} s"
    )
    print(
        f"automatic: {result.auto:,} pairs, precision {result.auto_precision:.2%}, recall {result.auto_recall:.2%}"
    )
    print(f"suggested: {result.suggested:,} pairs, precision {result.suggestion_precision:.2%}")
    print(f"found automatically or suggested: recall {result.recall:.2%}")
    print(f"{'scenario':<24}{'true pairs':>11}{'automatic':>11}{'or suggested':>14}")
    for name, (true, auto, found) in result.by_scenario.items():
        print(f"{name:<24}{true:>11,}{auto / true:>11.1%}{found / true:>14.1%}")
    ok = result.auto_precision >= 0.995 and result.recall >= 0.85
    print("targets met" if ok else "targets NOT met (automatic precision ≥ 99.5 %, recall ≥ 85 %)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
