"""The queue filter: each field, search on business keys, sorts, bad values,
and the description bulk actions show."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone

from exceptions_queue.filters import describe_filter, filter_queue
from exceptions_queue.models import ExceptionItem
from exceptions_queue.selectors import CONNECTOR_CHOICES_CACHE_KEY, code_counts, status_counts
from tests import factories as f
from tests.exceptions_queue.queue_factories import ExceptionItemFactory as Item

pytestmark = pytest.mark.django_db

S = ExceptionItem.Status
NOW = timezone.now()


def _ids(params, user, now=None):
    qs, form = filter_queue(QueryDict(params), user=user, now=now)
    return {item.pk for item in qs}


def _form(params, user):
    return filter_queue(QueryDict(params), user=user)[1]


def test_it_shows_open_items_by_default_and_any_status_on_request(analyst):
    new, review, resub = Item(status=S.NEW), Item(status=S.IN_REVIEW), Item(status=S.RESUBMITTED)
    resolved, dismissed = Item(status=S.RESOLVED), Item(status=S.DISMISSED)
    assert _ids("", analyst) == {new.pk, review.pk, resub.pk}
    assert _ids("status=open", analyst) == {new.pk, review.pk, resub.pk}
    assert _ids("status=resolved", analyst) == {resolved.pk}
    assert _ids("status=in_review", analyst) == {review.pk}
    assert _ids("status=all", analyst) == {new.pk, review.pk, resub.pk, resolved.pk, dismissed.pk}


def test_it_filters_by_code_severity_and_priority(analyst):
    tax = Item(code="TAX_MISMATCH", priority=2)
    late = Item(code="LATE_USAGE", priority=4)
    assert _ids("code=LATE_USAGE", analyst) == {late.pk}
    assert tax.severity == "high" and late.severity == "low"
    assert _ids("severity=high", analyst) == {tax.pk}
    assert _ids("priority=4", analyst) == {late.pk}


def test_it_filters_by_team_legal_entity_and_connector(analyst):
    cache.delete(CONNECTOR_CHOICES_CACHE_KEY)
    tax_team, ar_team = Group.objects.create(name="Tax"), Group.objects.create(name="AR")
    us = f.LegalEntityFactory(code="US01")
    de = f.LegalEntityFactory(code="DE01", country="DE", functional_currency="EUR")
    a = Item(team=tax_team, legal_entity=us, connector_id=7, connector_name="stripe-us")
    b = Item(team=ar_team, legal_entity=de, connector_id=9, connector_name="netsuite")
    assert _ids(f"team={tax_team.pk}", analyst) == {a.pk}
    assert _ids(f"legal_entity={de.pk}", analyst) == {b.pk}
    assert _ids("connector=9", analyst) == {b.pk}
    form = _form("", analyst)
    assert list(form.fields["connector"].widget.choices)[1:] == [(9, "netsuite"), (7, "stripe-us")]


def test_it_filters_by_assignee_me_none_and_a_person(analyst, integration_admin):
    mine, theirs, nobodys = Item(assignee=analyst), Item(assignee=integration_admin), Item()
    assert _ids("assignee=me", analyst) == {mine.pk}
    assert _ids("assignee=me", integration_admin) == {theirs.pk}
    assert _ids("assignee=none", analyst) == {nobodys.pk}
    assert _ids(f"assignee={integration_admin.pk}", analyst) == {theirs.pk}


def test_it_filters_by_sla_state(analyst):
    breaching = Item(due_at=NOW - dt.timedelta(minutes=1))
    soon = Item(due_at=NOW + dt.timedelta(hours=3))
    later = Item(due_at=NOW + dt.timedelta(days=3))
    no_sla = Item(due_at=None)
    Item(status=S.RESOLVED, due_at=NOW - dt.timedelta(days=2))  # closed late: not breaching any more
    assert _ids("sla=breaching", analyst, NOW) == {breaching.pk}
    assert _ids("sla=due_soon", analyst, NOW) == {soon.pk}
    assert _ids("sla=on_track", analyst, NOW) == {later.pk}
    assert _ids("sla=none", analyst, NOW) == {no_sla.pk}


def test_it_filters_by_age_and_amount_in_a_currency(analyst):
    old = Item(
        first_seen_at=NOW - dt.timedelta(days=10),
        last_seen_at=NOW - dt.timedelta(days=1),
        amount=Decimal("500.00"),
        currency="USD",
    )
    young = Item(amount=Decimal("5000.00"), currency="USD")
    euros = Item(amount=Decimal("700.00"), currency="EUR")
    assert _ids("older_than=7", analyst, NOW) == {old.pk}
    assert _ids("currency=USD", analyst) == {old.pk, young.pk}
    assert _ids("currency=USD&amount_min=1000", analyst) == {young.pk}
    assert _ids("currency=USD&amount_max=1000", analyst) == {old.pk}
    assert _ids("currency=EUR&amount_min=600&amount_max=800", analyst) == {euros.pk}


def test_it_asks_for_the_currency_of_an_amount_and_an_ordered_range(analyst):
    Item(amount=Decimal("5.00"), currency="USD")
    form = _form("amount_min=10", analyst)
    assert "currency" in form.errors
    assert len(_ids("amount_min=10", analyst)) == 1  # the amount is left out, not applied across currencies
    assert "amount_max" in _form("currency=USD&amount_min=10&amount_max=5", analyst).errors


def test_it_searches_external_id_label_prefix_correlation_and_dedupe_key(analyst):
    correlation = uuid.uuid4()
    by_ext = Item(external_id="in_1OaBcD")
    by_label = Item(object_label="INV-2026-000123")
    by_corr = Item(correlation_id=correlation)
    by_key = Item(dedupe_key="TAX_MISMATCH|revops.invoice:77|rate")
    Item(object_label="CT-9", external_id="in_other")
    assert _ids("q=in_1OaBcD", analyst) == {by_ext.pk}
    assert _ids("q=INV-2026-000123", analyst) == {by_label.pk}
    assert _ids("q=INV-2026", analyst) == {by_label.pk}
    assert _ids(f"q={correlation}", analyst) == {by_corr.pk}
    assert _ids("q=TAX_MISMATCH|revops.invoice:77|rate", analyst) == {by_key.pk}


def test_it_searches_by_customer_name_or_number(analyst):
    hooli = f.CustomerFactory(name="Hooli Europe GmbH", number="C-HOOLI")
    other = f.CustomerFactory(name="Initech LLC")
    item = Item(customer=hooli)
    Item(customer=other)
    assert _ids("q=hooli", analyst) == {item.pk}
    assert _ids("q=C-HOOLI", analyst) == {item.pk}
    assert _ids("q=Umbrella", analyst) == set()


def test_it_sorts_only_by_whitelisted_keys(analyst):
    a = Item(
        priority=3,
        occurrences=1,
        first_seen_at=NOW - dt.timedelta(days=3),
        last_seen_at=NOW - dt.timedelta(hours=1),
        due_at=NOW + dt.timedelta(hours=5),
    )
    b = Item(
        priority=1,
        occurrences=9,
        first_seen_at=NOW - dt.timedelta(days=1),
        last_seen_at=NOW - dt.timedelta(hours=2),
        due_at=None,
    )
    c = Item(
        priority=2,
        occurrences=4,
        first_seen_at=NOW - dt.timedelta(days=2),
        last_seen_at=NOW - dt.timedelta(hours=3),
        due_at=NOW + dt.timedelta(hours=1),
    )

    def order(sort):
        qs, form = filter_queue(QueryDict(f"sort={sort}"), user=analyst)
        return [item.pk for item in qs], form

    assert order("newest")[0] == [a.pk, b.pk, c.pk]
    assert order("oldest")[0] == [a.pk, c.pk, b.pk]
    assert order("due")[0] == [c.pk, a.pk, b.pk]  # no due time last
    assert order("priority")[0] == [b.pk, c.pk, a.pk]
    assert order("occurrences")[0] == [b.pk, c.pk, a.pk]
    ids, form = order("title;drop table")
    assert ids == [a.pk, b.pk, c.pk] and "sort" in form.errors


def test_it_turns_bad_values_into_form_errors_and_leaves_them_out(analyst):
    item = Item()
    params = (
        "status=bogus&code=NOPE&assignee=x&older_than=-3&amount_min=abc&team=999999&legal_entity=x"
        "&connector=-1&sla=late&priority=9&severity=extreme"
    )
    assert _ids(params, analyst) == {item.pk}
    assert set(_form(params, analyst).errors) == {
        "status",
        "code",
        "assignee",
        "older_than",
        "amount_min",
        "team",
        "legal_entity",
        "connector",
        "sla",
        "priority",
        "severity",
    }
    assert "assignee" in _form("assignee=999999", analyst).errors


def test_it_describes_the_filter_in_a_few_words(analyst):
    tax_team = Group.objects.create(name="Tax")
    form = _form(f"code=TAX_MISMATCH&team={tax_team.pk}&sla=breaching&assignee=me", analyst)
    assert describe_filter(form) == "Open · Tax mismatch · team Tax · assigned to me · breaching SLA"
    form = _form("status=all&currency=USD&amount_min=100&amount_max=250.5&q=INV-1", analyst)
    assert describe_filter(form) == "Any status · USD 100–250.5 · “INV-1”"


def test_it_counts_per_status_and_code(analyst):
    from exceptions_queue.filters import filter_conditions

    Item(code="TAX_MISMATCH")
    Item(code="TAX_MISMATCH", status=S.IN_REVIEW)
    Item(code="LATE_USAGE")
    Item(code="LATE_USAGE", status=S.RESOLVED)
    condition = filter_conditions({"status": "all"}, user=analyst, now=NOW)
    statuses = status_counts(condition)
    assert statuses["new"] == (2, False) and statuses["in_review"] == (1, False)
    assert statuses["resolved"] == (1, False) and statuses["dismissed"] == (0, False)
    codes = code_counts(filter_conditions({"status": "open"}, user=analyst, now=NOW))
    assert codes["TAX_MISMATCH"] == (2, False) and codes["LATE_USAGE"] == (1, False)
    assert status_counts(condition, cap=1)["new"] == (1, True)


def test_it_searches_a_name_many_customers_share(analyst, monkeypatch):
    from exceptions_queue import selectors

    customers = [f.CustomerFactory(name=f"Hooli {n} GmbH") for n in range(3)]
    items = {Item(customer=customer).pk for customer in customers}
    Item(customer=f.CustomerFactory(name="Initech LLC"))
    monkeypatch.setattr(selectors, "_CUSTOMER_ID_LIMIT", 1)  # ids travel as one array
    assert _ids("q=hooli", analyst) == items
    monkeypatch.setattr(selectors, "_CUSTOMER_ID_ARRAY_LIMIT", 1)  # a subquery instead
    assert _ids("q=hooli", analyst) == items


def test_it_gives_up_counting_per_code_when_it_takes_too_long(analyst, monkeypatch):
    from django.db.models import BooleanField
    from django.db.models.expressions import RawSQL

    from exceptions_queue import selectors

    Item()
    slow = Q(RawSQL("pg_sleep(0.05) IS NOT NULL", [], output_field=BooleanField()))
    monkeypatch.setattr(selectors, "FACET_TIMEOUT_MS", 1)
    counts = code_counts(slow, per_value=False)
    assert set(counts.values()) == {(None, False)}
    # The connection is still usable afterwards.
    assert ExceptionItem.objects.count() == 1
