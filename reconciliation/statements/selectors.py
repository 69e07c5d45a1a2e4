"""Reads for the bank statement pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from exceptions_queue.models import ExceptionItem
from reconciliation.statements.models import BankEntry, BankStatement
from reconciliation.statements.services import unbalanced_dedupe_key

# sort key → ORDER BY, each led by a column the list's index covers.
STATEMENT_SORTS = {
    "period_end": ("period_end", "account", "id"),
    "-period_end": ("-period_end", "account", "-id"),
    "account": ("account", "-period_end", "-id"),
    "-account": ("-account", "-period_end", "-id"),
}
STATEMENT_DEFAULT_SORT = "-period_end"
BALANCED_FILTERS = {
    "yes": Q(balanced=True),
    "no": Q(balanced=False),
    "unchecked": Q(balanced__isnull=True),
}


def statements_matching(
    *, q: str = "", account: str = "", balanced: str = "", file_id: int | None = None, sort: str = ""
) -> QuerySet[BankStatement]:
    statements = BankStatement.objects.select_related("file", "legal_entity")
    if q:
        statements = statements.filter(
            Q(account__icontains=q) | Q(bank_statement_id=q) | Q(file__original_name__icontains=q)
        )
    if account:
        statements = statements.filter(account=account)
    if balanced in BALANCED_FILTERS:
        statements = statements.filter(BALANCED_FILTERS[balanced])
    if file_id:
        statements = statements.filter(file_id=file_id)
    return statements.order_by(*STATEMENT_SORTS.get(sort, STATEMENT_SORTS[STATEMENT_DEFAULT_SORT]))


def statement_accounts() -> list[str]:
    return list(BankStatement.objects.order_by("account").values_list("account", flat=True).distinct())


@dataclass
class StatementDetail:
    statement: BankStatement
    exception_item: ExceptionItem | None

    @property
    def difference(self):
        s = self.statement
        if s.expected_closing is None or s.closing_balance is None:
            return None
        return s.closing_balance - s.expected_closing


def load_statement(pk: int) -> StatementDetail:
    """Raises BankStatement.DoesNotExist."""
    statement = BankStatement.objects.select_related("file", "file__uploaded_by", "legal_entity").get(pk=pk)
    item = None
    if statement.balanced is False:
        # The newest item for this statement, open or not: the page links to how it was handled.
        item = (
            ExceptionItem.objects.filter(dedupe_key=unbalanced_dedupe_key(statement))
            .only("pk", "status", "title")
            .order_by("-first_seen_at", "-pk")
            .first()
        )
    return StatementDetail(statement, item)


def statement_entries(statement: BankStatement) -> QuerySet[BankEntry]:
    return statement.entries.order_by("sequence").defer("raw")
