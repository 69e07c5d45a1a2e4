"""Read pages: reconciliations, one reconciliation, a run's report, its CSV."""

from __future__ import annotations

import csv

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render

from reconciliation import selectors
from reconciliation.forms import DecideForm
from reconciliation.models import Kind, Outcome, Reconciliation, Run, RunLine
from reconciliation.sources import SIDE_LABELS
from reconciliation.statements.models import BankStatement
from reconciliation.views.access import ADD, CONFIGURE, DECIDE, RUN, VIEW
from revops.web.decorators import reads
from revops.web.pagination import paginate

LINES_PER_PAGE = 100


@reads(VIEW)
def reconciliation_list(request):
    context = {
        "reconciliations": selectors.reconciliations_with_latest(),
        "can_add": request.user.has_perm(ADD),
        "can_run": request.user.has_perm(RUN),
    }
    return render(request, "reconciliation/list.html", context)


@reads(VIEW)
def reconciliation_detail(request, pk: int):
    recon = get_object_or_404(Reconciliation.objects.select_related("legal_entity"), pk=pk)
    left, right = SIDE_LABELS[recon.kind]
    context = {
        "recon": recon,
        "left_label": left,
        "right_label": right,
        "rules": list(recon.rules.order_by("position")),
        "runs": selectors.recent_runs(recon),
        "open_breaks": selectors.open_breaks(recon).count(),
        "statements": selectors.recent_statements() if recon.kind == Kind.CASH_APPLICATION else [],
        "can_run": request.user.has_perm(RUN),
        "can_configure": request.user.has_perm(CONFIGURE),
    }
    return render(request, "reconciliation/detail.html", context)


def _outcome(raw: str | None) -> str:
    return raw if raw in Outcome.values else Outcome.UNMATCHED


@reads(VIEW)
def run_detail(request, pk: int):
    run = get_object_or_404(Run.objects.select_related("reconciliation"), pk=pk)
    outcome = _outcome(request.GET.get("outcome"))
    side = request.GET.get("side", "") if request.GET.get("side") in ("left", "right") else ""
    q = request.GET.get("q", "").strip()[:255]
    lines = selectors.run_lines(run, outcome, side=side, q=q)
    params = {"outcome": outcome, "side": side, "q": q}
    page = paginate(lines, page=request.GET.get("page"), params=params, per_page=LINES_PER_PAGE)
    left, right = SIDE_LABELS[run.reconciliation.kind]
    rules = {rule.pk: rule for rule in run.reconciliation.rules.all()}
    for line in page.items:
        line.rule_obj = rules.get(line.rule_id)
    context = {
        "run": run,
        "recon": run.reconciliation,
        "left_label": left,
        "right_label": right,
        "totals": selectors.run_totals(run),
        "outcome": outcome,
        "side": side,
        "q": q,
        "page": page,
        "outcomes": [(value, label) for value, label in Outcome.choices],
        "can_decide": request.user.has_perm(DECIDE) and outcome == Outcome.SUGGESTED,
        "decide_form": DecideForm(),
    }
    if request.htmx and request.htmx.target == "results":
        return render(request, "reconciliation/run.html#lines", context)
    if request.htmx and request.htmx.target == "run-status":
        return render(request, "reconciliation/run.html#status", context)
    return render(request, "reconciliation/run.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


CSV_HEADER = ["outcome", "group", "rule", "decided", "currency", *RunLine.side_fields(), "difference"]


def _csv_rows(run: Run, outcomes: list[str]):
    writer = csv.writer(_Echo())
    rules = {rule.pk: rule.name for rule in run.reconciliation.rules.all()}
    yield writer.writerow(CSV_HEADER)
    for outcome in outcomes:
        for line in selectors.run_lines(run, outcome).iterator(chunk_size=2_000):
            yield writer.writerow(_csv_line(line, rules))


def _csv_line(line: RunLine, rules: dict[int, str]) -> list:
    rule = rules.get(line.rule_id, "deleted rule") if line.rule_id else ("analyst" if line.decided else "")
    row = [line.outcome, line.group_no or "", rule, line.decided, line.currency]
    for field in RunLine.side_fields():
        value = getattr(line, field)
        row.append("" if value is None else value)
    row.append("" if line.difference is None else line.difference)
    return row


@reads(VIEW)
def run_export(request, pk: int):
    """The run's lines as CSV, streamed (a million lines never sit in memory)."""
    run = get_object_or_404(Run.objects.select_related("reconciliation"), pk=pk)
    if run.lines_removed_at is not None:
        return HttpResponse(run.lines_removed_note, status=410, content_type="text/plain; charset=utf-8")
    wanted = request.GET.get("outcome", "")
    if wanted and wanted not in Outcome.values:
        raise Http404("No such outcome.")
    outcomes = [wanted] if wanted else [Outcome.UNMATCHED, Outcome.SUGGESTED, Outcome.MATCHED]
    response = StreamingHttpResponse(_csv_rows(run, outcomes), content_type="text/csv; charset=utf-8")
    name = f"reconciliation-run-{run.pk}{'-' + wanted if wanted else ''}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@reads(VIEW)
def statement_cash(request, pk: int):
    """A bank statement's credits and the invoices each was applied to."""
    statement = get_object_or_404(BankStatement, pk=pk)
    run, rows = selectors.statement_cash_application(statement)
    context = {
        "statement": statement,
        "run": run,
        "rows": rows,
        "unapplied": sum(1 for row in rows if row.outcome in ("", "unmatched")),
    }
    return render(request, "reconciliation/statement_cash.html", context)
