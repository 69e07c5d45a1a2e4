"""Salesforce Account, Contact and Opportunity records → `connectors.records` (pure).

Reads both shapes Salesforce uses: the sObject Tree import shape
(`attributes.referenceId`, references like `"accountId": "@AccountRef1"`) and the
REST query shape (`Id`, `AccountId`). Salesforce field names are case-insensitive
(`BillingCity`, `billingcity`), so fields are looked up without regard to case.

- an Account → CustomerRecord (billing address; currency from `CurrencyIsoCode`
  in multi-currency orgs, else none and the legal entity's applies), with the
  Contacts that name it;
- a Contact → ContactRecord (last name required, as in Salesforce; the e-mail,
  when given, must look like one);
- an Opportunity → OpportunityRecord: its name and description exactly as given,
  and a ContractRecord: "Closed Won" → active from the close date, "Closed Lost"
  → cancelled, any other standard stage → draft. The amount becomes one contract
  line of the product the caller names (a "CRM opportunity" product), billed
  annually unless told otherwise; its currency is `CurrencyIsoCode`, else the
  org's corporate currency the caller passes.

Free text (names, descriptions) is kept exactly as Salesforce holds it, whatever
it contains (quotes, markup, control and combining characters, emoji): it is
data, stored as given and escaped where it is shown. A record that cannot be
mapped raises MappingError naming the record, the field and what Salesforce sent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.hubspot.countries import country_code
from connectors.records import (
    Address,
    ContactRecord,
    ContractLineRecord,
    ContractRecord,
    CustomerRecord,
    MappingError,
)
from revops.money import CURRENCY_EXPONENTS

# Salesforce's standard opportunity stages → canonical contract status. Stage names
# are compared without case, and with "/" or "-" read as a space ("Closed/Won").
STAGES = {
    "prospecting": "draft",
    "qualification": "draft",
    "needs analysis": "draft",
    "value proposition": "draft",
    "id. decision makers": "draft",
    "perception analysis": "draft",
    "proposal/price quote": "draft",
    "negotiation/review": "draft",
    "closed won": "active",
    "closed lost": "cancelled",
}
BILLING_FREQUENCIES = ("monthly", "quarterly", "annual")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class OpportunityRecord:
    """An opportunity as revops keeps it: its words as given, and the contract it stands for."""

    external_id: str
    account_external_id: str
    name: str
    description: str
    stage: str
    amount: Decimal | None
    contract: ContractRecord


def show(value: Any) -> str:
    try:
        text = json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class Reader:
    """One Salesforce record; fields by name without regard to case."""

    def __init__(self, record: Any, sobject: str):
        if not isinstance(record, dict):
            raise MappingError(
                f"Expected a Salesforce {sobject} record; Salesforce sent {show(record)}", actual=record
            )
        self.record = record
        self.fields = {k.casefold(): k for k in record if isinstance(k, str)}
        kind = self.at("attributes.type")
        if kind is not None and str(kind).casefold() != sobject.casefold():
            raise MappingError(
                f"Expected a Salesforce {sobject} record; this one is a {show(kind)}",
                field="attributes.type",
                expected=sobject,
                actual=kind,
            )
        self.sobject = sobject
        self.external_id = self._external_id()
        self.label = f"{sobject} {self.external_id}"

    def at(self, name: str) -> Any:
        head, _, rest = name.partition(".")
        value = self.record.get(self.fields.get(head.casefold(), head))
        if rest:
            if not isinstance(value, dict):
                return None
            inner = {k.casefold(): v for k, v in value.items() if isinstance(k, str)}
            return inner.get(rest.casefold())
        return value

    def path(self, name: str) -> str:
        """The field's name as the record spells it, for payload paths."""
        head, dot, rest = name.partition(".")
        return self.fields.get(head.casefold(), head) + dot + rest

    def fail(self, problem: str, name: str, *, expected: Any = None) -> MappingError:
        actual = self.at(name)
        path = self.path(name)
        return MappingError(
            f"{self.label} {problem}; Salesforce sent {path}={show(actual)}",
            field=path,
            expected=expected,
            actual=actual,
        )

    def _external_id(self) -> str:
        for name in ("Id", "attributes.referenceId"):
            value = self.at(name)
            if isinstance(value, str) and value.strip():
                return value.strip()
        raise MappingError(
            f"Salesforce {self.sobject} record has neither an Id nor a referenceId",
            field="attributes.referenceId",
            expected="an Id or a referenceId",
        )

    def text(self, name: str) -> str:
        """Free text exactly as given ("" when absent); a non-text value is refused."""
        value = self.at(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail("has a text field that is not text", name, expected="text")
        return value

    def reference(self, name: str, what: str) -> str:
        value = self.at(name)
        if not isinstance(value, str) or not value.strip().lstrip("@"):
            raise self.fail(f"names no {what}", name, expected=f"an {what} Id or @reference")
        # sObject Tree references read "@AccountRef1": the referenceId of the record named.
        return value.strip().removeprefix("@")


# --- accounts and contacts -------------------------------------------------------------------


def map_account(account: dict, *, contacts: list[ContactRecord] = ()) -> CustomerRecord:
    r = Reader(account, "Account")
    name = r.text("Name")
    if not name.strip():
        raise r.fail("has no name", "Name", expected="text")
    country = _country(r)
    street = r.text("BillingStreet").split("\n", 1)
    return CustomerRecord(
        external_id=r.external_id,
        name=name,
        currency=_currency(r, required=False),
        address=Address(
            line1=street[0].strip(),
            line2=street[1].strip() if len(street) > 1 else "",
            city=r.text("BillingCity").strip(),
            region=r.text("BillingState").strip(),
            postal_code=r.text("BillingPostalCode").strip(),
            country=country,
        ),
        contacts=tuple(contacts),
        version=_version(r),
    )


def _country(r: Reader) -> str:
    for name in ("BillingCountryCode", "BillingCountry"):
        if r.at(name) not in (None, ""):
            code = country_code(r.text(name))
            if code is None:
                raise r.fail("has a billing country revops does not recognise", name, expected="a country")
            return code
    return ""


def map_contact(contact: dict) -> tuple[str, ContactRecord]:
    """(the account it belongs to, the contact)."""
    r = Reader(contact, "Contact")
    last = r.text("LastName").strip()
    if not last:
        raise r.fail("has no last name", "LastName", expected="text")
    email = r.text("Email").strip()
    if email and not _EMAIL.fullmatch(email):
        raise r.fail("has an e-mail address that is not one", "Email", expected="name@domain")
    name = " ".join(part for part in (r.text("FirstName").strip(), last) if part)
    return r.reference("AccountId", "Account"), ContactRecord(
        name=name, email=email, phone=r.text("Phone").strip()
    )


# --- opportunities → contracts --------------------------------------------------------------


def stage_status(stage: str) -> str | None:
    key = re.sub(r"\s+", " ", stage).strip().casefold()
    if key in STAGES:
        return STAGES[key]
    return STAGES.get(re.sub(r"\s*[/-]\s*", " ", key))


def map_opportunity(
    opportunity: dict,
    *,
    currency: str | None = None,
    product_external_id: str | None = None,
    billing_frequency: str = "annual",
) -> OpportunityRecord:
    """`currency`: the org's corporate currency, for orgs without `CurrencyIsoCode`;
    `product_external_id`: the product an opportunity's amount is sold as."""
    if billing_frequency not in BILLING_FREQUENCIES:
        raise ValueError(f"billing_frequency must be one of {BILLING_FREQUENCIES}")
    r = Reader(opportunity, "Opportunity")
    stage = r.text("StageName")
    status = _status(r, stage)
    code = _currency(r, required=False) or _fallback_currency(r, currency)
    amount = _amount(r, code)
    close = _date(r, "CloseDate")
    if close is None:
        raise r.fail("has no close date", "CloseDate", expected="a date")
    if status == "active" and amount is None:
        raise r.fail("is won without an amount", "Amount", expected="an amount")
    if not product_external_id:
        raise r.fail(
            "cannot become a contract line: no product is configured for opportunity amounts",
            "Amount",
            expected="a product for opportunity amounts",
        )
    contract = ContractRecord(
        external_id=r.external_id,
        customer_external_id=r.reference("AccountId", "Account"),
        status=status,
        currency=code,
        start_date=close,
        billing_frequency=billing_frequency,
        lines=(
            ContractLineRecord(
                external_id=f"{r.external_id}:amount",
                product_external_id=product_external_id,
                quantity=Decimal(1),
                unit_price=amount if amount is not None else Decimal(0),
            ),
        ),
        cancelled_at=dt.datetime.combine(close, dt.time(), tzinfo=dt.UTC) if status == "cancelled" else None,
        version=_version(r),
    )
    return OpportunityRecord(
        external_id=r.external_id,
        account_external_id=contract.customer_external_id,
        name=r.text("Name"),
        description=r.text("Description"),
        stage=stage,
        amount=amount,
        contract=contract,
    )


def _status(r: Reader, stage: str) -> str:
    is_won, is_closed = r.at("IsWon"), r.at("IsClosed")
    if isinstance(is_won, bool) and isinstance(is_closed, bool):
        # A query that selected them says it for custom stages too.
        return "active" if is_won else "cancelled" if is_closed else "draft"
    if not stage.strip():
        raise r.fail("has no stage", "StageName", expected="a stage name")
    status = stage_status(stage)
    if status is None:
        raise r.fail(
            "is in a stage revops cannot place as open, won or lost (select IsWon and IsClosed for custom stages)",
            "StageName",
            expected=sorted(STAGES),
        )
    return status


def _currency(r: Reader, *, required: bool) -> str | None:
    value = r.at("CurrencyIsoCode")
    if value in (None, "") and not required:
        return None
    code = value.strip().upper() if isinstance(value, str) else None
    if code not in CURRENCY_EXPONENTS:
        raise r.fail(
            "is in a currency revops does not support", "CurrencyIsoCode", expected="an ISO 4217 code"
        )
    return code


def _fallback_currency(r: Reader, currency: str | None) -> str:
    code = (currency or "").upper()
    if code not in CURRENCY_EXPONENTS:
        raise r.fail(
            "has no currency, and no corporate currency is configured for this org",
            "CurrencyIsoCode",
            expected="an ISO 4217 code",
        )
    return code


def _amount(r: Reader, currency: str) -> Decimal | None:
    value = r.at("Amount")
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise r.fail("has an amount that is not a number", "Amount", expected="a decimal amount")
    text = str(value).strip()
    # Plain decimals only: "1E02" is a number to Python, never an amount Salesforce sends.
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        raise r.fail("has an amount that is not a number", "Amount", expected="a decimal amount")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise r.fail("has an amount that is not a number", "Amount", expected="a decimal amount") from None
    if amount < 0:
        raise r.fail("has a negative amount", "Amount", expected="an amount ≥ 0")
    if -amount.as_tuple().exponent > CURRENCY_EXPONENTS[currency]:
        raise r.fail(
            f"has more decimals than {currency} has",
            "Amount",
            expected=f"{CURRENCY_EXPONENTS[currency]} decimals",
        )
    return amount


def _date(r: Reader, name: str) -> dt.date | None:
    value = r.at(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None:
            return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).date()
    raise r.fail("has a date Salesforce dates do not look like", name, expected="YYYY-MM-DD")


def _version(r: Reader) -> str:
    value = r.at("SystemModstamp") or r.at("LastModifiedDate")
    if not isinstance(value, str):
        return ""
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("+0000", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return f"{int(moment.timestamp() * 1000):015d}"


# --- a whole tree ----------------------------------------------------------------------------


@dataclass
class TreeResult:
    customers: list[CustomerRecord]
    opportunities: list[OpportunityRecord]
    refused: list[tuple[str, int, MappingError]]  # (sobject, position in its file, why)


def map_tree(
    *,
    accounts: list[dict],
    contacts: list[dict] = (),
    opportunities: list[dict] = (),
    currency: str | None = None,
    product_external_id: str | None = None,
) -> TreeResult:
    """Map an sObject Tree export: every record is either mapped or refused with
    its reason, never dropped. Contacts join their account; a contact or
    opportunity naming an account that is not there (or was refused) is refused."""
    refused: list[tuple[str, int, MappingError]] = []
    by_account: dict[str, list[ContactRecord]] = {}
    account_ids = set()
    for account in accounts:
        with contextlib.suppress(MappingError):  # refused below, with the account's own reason
            account_ids.add(Reader(account, "Account").external_id)
    for i, contact in enumerate(contacts):
        try:
            account_id, record = map_contact(contact)
            if account_id not in account_ids:
                raise Reader(contact, "Contact").fail(
                    "names an account that is not in this export",
                    "AccountId",
                    expected="an account of the export",
                )
            by_account.setdefault(account_id, []).append(record)
        except MappingError as exc:
            refused.append(("Contact", i, exc))
    customers = []
    mapped_accounts = set()
    for i, account in enumerate(accounts):
        try:
            external_id = Reader(account, "Account").external_id
            customers.append(map_account(account, contacts=by_account.get(external_id, [])))
            mapped_accounts.add(external_id)
        except MappingError as exc:
            refused.append(("Account", i, exc))
    mapped = []
    for i, opportunity in enumerate(opportunities):
        try:
            record = map_opportunity(opportunity, currency=currency, product_external_id=product_external_id)
            if record.account_external_id not in mapped_accounts:
                raise Reader(opportunity, "Opportunity").fail(
                    "names an account that is not mapped in this export",
                    "AccountId",
                    expected="an account of the export",
                )
            mapped.append(record)
        except MappingError as exc:
            refused.append(("Opportunity", i, exc))
    return TreeResult(customers=customers, opportunities=mapped, refused=refused)
