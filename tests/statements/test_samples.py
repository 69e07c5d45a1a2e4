"""Every vendor sample, read through format sniffing: how many statements and
entries it holds and how many do not balance, or the message it is refused with.
A sample added to tests/fixtures/vendor/bank without a row here fails."""

from __future__ import annotations

import pytest

from reconciliation.statements.parsers import parse_statements, sniff
from reconciliation.statements.parsers.types import StatementParseError, check_balance
from tests.statements.vendor import all_samples, sample

# file → (format family, statements, entries, statements that do not balance, without balances)
READ = {
    "bai2/sample1.txt": ("bai2", 2, 17, 0, 2),
    "bai2/sample2.txt": ("bai2", 5, 4, 0, 5),
    "bai2/sample3.txt": ("bai2", 15, 26, 0, 0),
    "camt/200519_camt.052_P_CH2909000000250094239_1110092686_0_2019042416072347.xml": ("camt", 1, 2, 1, 0),
    "camt/200519_camt.054-Credit_P_CH2909000000250094239_1110092691_0_2019042421291293.xml": (
        "camt",
        1,
        1,
        0,
        1,
    ),
    "camt/200519_camt054-ESR-ASR_P_CH2909000000250094239_1110092704_0_2019042500372179.xml": (
        "camt",
        1,
        2,
        0,
        1,
    ),
    "camt/FI_camt_053_sample.xml.xml": ("camt", 1, 10, 0, 0),
    "camt/FI_camt_054_sample.xml.xml": ("camt", 1, 6, 0, 1),
    "camt/camt.053_P_CH2909000000250094239_1110092698_0_2020112503071366.xml": ("camt", 1, 5, 0, 0),
    "camt/camt054-returns_p_ch5109000000250092291_1110097606_0_2020112500512470.xml": ("camt", 1, 1, 0, 1),
    "mt940/ASNB_mt940.txt": ("mt940", 31, 8, 0, 0),
    "mt940/betterplace_sepa_mt9401.sta": ("mt940", 26, 97, 0, 0),
    "mt940/betterplace_sepa_snippet.sta": ("mt940", 2, 11, 1, 0),
    "mt940/citi_mt940.txt": ("mt940", 1, 5, 0, 0),
    "mt940/cmxl_mt940.sta": ("mt940", 3, 16, 0, 0),
    "mt940/jejik_abnamro.sta": ("mt940", 2, 10, 2, 0),
    "mt940/jejik_ing.sta": ("mt940", 1, 7, 1, 0),
    "mt940/jejik_knab.sta": ("mt940", 2, 3, 1, 0),
    "mt940/jejik_rabobank-iban.sta": ("mt940", 2, 4, 0, 0),
    "mt940/jejik_rabobank.sta": ("mt940", 4, 5, 1, 0),
    "mt940/jejik_triodos.sta": ("mt940", 1, 2, 1, 0),
    "mt940/mBank_mt942.sta": ("mt940", 1, 3, 0, 1),
}
REFUSED = {
    "bai2/sample-parseError.txt": (
        "Line 1: record code 00 is not a BAI2 record; expected one of 01, 02, 03, 16, 49, 88, 98, 99."
    ),
    "bai2/sample4-continuations-newline-delimited.txt": (
        "Line 22, record 49: the account control total of account 107049932 is -12601613417.62, but its "
        "balances and transactions (88 continuations included) add up to 79999.60."
    ),
    "bai2/sample5-issue113.txt": (
        "Line 63: '88:EREF: 07370568132' is not a BAI2 record: a two-digit record code must be followed by a comma."
    ),
    "mt940/betterplace_sepa_snippet_broken.sta": (
        "Line 6: :25: cannot follow :61: (line 5) in the statement starting at line 1; "
        "expected :61:, :62F:, :62M:, :86:, :90C:, :90D:."
    ),
}


def test_it_has_an_expectation_for_every_sample():
    assert sorted([*READ, *REFUSED]) == all_samples()


@pytest.mark.parametrize("name", sorted(READ))
def test_it_reads_each_sample(name):
    family, statements, entries, unbalanced, unchecked = READ[name]
    found_family, parsed = parse_statements(sample(name))
    checks = [check_balance(s).balanced for s in parsed]
    assert (found_family, len(parsed), sum(len(s.entries) for s in parsed)) == (family, statements, entries)
    assert (checks.count(False), checks.count(None)) == (unbalanced, unchecked)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_it_refuses_each_broken_sample_with_its_message(name):
    with pytest.raises(StatementParseError) as excinfo:
        parse_statements(sample(name))
    assert excinfo.value.message == REFUSED[name]


def test_it_tells_the_format_from_the_content_not_the_name():
    assert sniff(sample("mt940/citi_mt940.txt")) == "mt940"
    assert sniff(sample("bai2/sample1.txt")) == "bai2"
    assert sniff(b"\xef\xbb\xbf" + sample("camt/FI_camt_053_sample.xml.xml")) == "camt"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"  \n", "The file is empty."),
        (b"Date,Amount\n2024-01-01,10.00\n", "This is not a bank statement revops can read"),
    ],
)
def test_it_refuses_what_is_no_statement(content, message):
    with pytest.raises(StatementParseError, match=f"^{message}"):
        sniff(content)
