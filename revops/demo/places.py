"""Where demo customers are: US states with their sales-tax rates, German cities,
and a few EU neighbours billed from Germany under the reverse charge."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class UsState:
    code: str
    rate: Decimal  # the sales-tax rate applied to SaaS in the demo, percent
    cities: tuple[tuple[str, str], ...]  # (city, ZIP code)
    weight: int  # how often customers are in this state


US_STATES: tuple[UsState, ...] = (
    UsState(
        "CA",
        Decimal("7.25"),
        (
            ("San Francisco", "94105"),
            ("San Francisco", "94107"),
            ("Los Angeles", "90017"),
            ("San Diego", "92101"),
            ("San Jose", "95113"),
            ("Oakland", "94612"),
            ("Irvine", "92618"),
            ("Palo Alto", "94301"),
        ),
        9,
    ),
    UsState(
        "NY",
        Decimal("8.875"),
        (("New York", "10001"), ("New York", "10016"), ("Brooklyn", "11201"), ("Buffalo", "14202")),
        7,
    ),
    UsState("TX", Decimal("6.25"), (("Austin", "78701"), ("Dallas", "75201"), ("Houston", "77002")), 6),
    UsState("WA", Decimal("6.5"), (("Seattle", "98101"), ("Bellevue", "98004"), ("Spokane", "99201")), 4),
    UsState("IL", Decimal("6.25"), (("Chicago", "60601"), ("Chicago", "60606"), ("Naperville", "60540")), 4),
    UsState("MA", Decimal("6.25"), (("Boston", "02110"), ("Cambridge", "02139")), 3),
    UsState("CO", Decimal("2.9"), (("Denver", "80202"), ("Boulder", "80302")), 3),
    UsState("GA", Decimal("4"), (("Atlanta", "30303"), ("Savannah", "31401")), 2),
    UsState("FL", Decimal("6"), (("Miami", "33131"), ("Tampa", "33602"), ("Orlando", "32801")), 3),
    UsState("NJ", Decimal("6.625"), (("Jersey City", "07302"), ("Princeton", "08540")), 2),
    UsState("PA", Decimal("6"), (("Philadelphia", "19103"), ("Pittsburgh", "15222")), 2),
    UsState("NC", Decimal("4.75"), (("Charlotte", "28202"), ("Raleigh", "27601")), 2),
    UsState("MN", Decimal("6.875"), (("Minneapolis", "55401"),), 1),
    UsState("AZ", Decimal("5.6"), (("Phoenix", "85004"), ("Scottsdale", "85251")), 1),
    UsState("OH", Decimal("5.75"), (("Columbus", "43215"), ("Cleveland", "44114")), 1),
    UsState("UT", Decimal("4.85"), (("Salt Lake City", "84111"),), 1),
    # Oregon has no sales tax: invoices there carry a 0% line.
    UsState("OR", Decimal("0"), (("Portland", "97204"),), 1),
)

# Area codes of the demo cities, for contacts' phone numbers (555-01xx lines are fictional).
US_AREA_CODES = {
    "CA": ("415", "213", "619", "408", "510"),
    "NY": ("212", "646", "718", "716"),
    "TX": ("512", "214", "713"),
    "WA": ("206", "425", "509"),
    "IL": ("312", "630"),
    "MA": ("617",),
    "CO": ("303", "720"),
    "GA": ("404", "912"),
    "FL": ("305", "813", "407"),
    "NJ": ("201", "609"),
    "PA": ("215", "412"),
    "NC": ("704", "919"),
    "MN": ("612",),
    "AZ": ("602", "480"),
    "OH": ("614", "216"),
    "UT": ("801",),
    "OR": ("503",),
}

US_STREETS = (
    "Market St",
    "Mission St",
    "Main St",
    "Broadway",
    "5th Ave",
    "Madison Ave",
    "Congress Ave",
    "Peachtree St NE",
    "Michigan Ave",
    "Pike St",
    "Wacker Dr",
    "Commerce St",
    "Pearl St",
    "Boylston St",
    "Larimer St",
    "Brickell Ave",
    "Walnut St",
    "University Ave",
    "Harbor Blvd",
    "Innovation Way",
)


@dataclass(frozen=True)
class GermanCity:
    name: str
    state: str  # Bundesland
    postal_codes: tuple[str, ...]
    phone_prefix: str  # a number block reserved for fiction, where the city has one


GERMAN_CITIES: tuple[GermanCity, ...] = (
    GermanCity("Berlin", "Berlin", ("10115", "10178", "10997", "10623"), "+49 30 23125"),
    GermanCity("München", "Bayern", ("80331", "80335", "80469", "81675"), "+49 89 99998"),
    GermanCity("Hamburg", "Hamburg", ("20095", "20457", "22765"), "+49 40 66969"),
    GermanCity("Frankfurt am Main", "Hessen", ("60311", "60486", "60329"), "+49 69 90009"),
    GermanCity("Köln", "Nordrhein-Westfalen", ("50667", "50672", "50823"), "+49 221 4710"),
    GermanCity("Stuttgart", "Baden-Württemberg", ("70173", "70174", "70469"), ""),
    GermanCity("Düsseldorf", "Nordrhein-Westfalen", ("40210", "40212", "40474"), ""),
    GermanCity("Leipzig", "Sachsen", ("04109", "04107"), ""),
    GermanCity("Dresden", "Sachsen", ("01067", "01069"), ""),
    GermanCity("Hannover", "Niedersachsen", ("30159", "30161"), ""),
    GermanCity("Nürnberg", "Bayern", ("90402", "90403"), ""),
    GermanCity("Bremen", "Bremen", ("28195", "28203"), ""),
    GermanCity("Karlsruhe", "Baden-Württemberg", ("76133", "76131"), ""),
    GermanCity("Mannheim", "Baden-Württemberg", ("68161", "68165"), ""),
    GermanCity("Bonn", "Nordrhein-Westfalen", ("53111", "53113"), ""),
    GermanCity("Münster", "Nordrhein-Westfalen", ("48143", "48155"), ""),
    GermanCity("Freiburg im Breisgau", "Baden-Württemberg", ("79098",), ""),
    GermanCity("Heidelberg", "Baden-Württemberg", ("69117",), ""),
)

GERMAN_STREETS = (
    "Friedrichstraße",
    "Torstraße",
    "Leopoldstraße",
    "Kaiserstraße",
    "Hohe Straße",
    "Königsallee",
    "Jungfernstieg",
    "Mainzer Landstraße",
    "Theresienstraße",
    "Schillerstraße",
    "Goethestraße",
    "Bahnhofstraße",
    "Hauptstraße",
    "Lindenstraße",
    "Am Sandtorkai",
    "Invalidenstraße",
    "Speditionstraße",
    "Prinzregentenstraße",
)


@dataclass(frozen=True)
class EuPlace:
    country: str
    city: str
    postal_code: str
    street: str
    company_suffix: str


# Business customers elsewhere in the EU, invoiced by the German entity without
# VAT: the customer accounts for it (reverse charge).
EU_PLACES: tuple[EuPlace, ...] = (
    EuPlace("AT", "Wien", "1010", "Kärntner Straße", "GmbH"),
    EuPlace("AT", "Graz", "8010", "Herrengasse", "GmbH"),
    EuPlace("NL", "Amsterdam", "1017 CE", "Herengracht", "B.V."),
    EuPlace("NL", "Rotterdam", "3011 AD", "Coolsingel", "B.V."),
    EuPlace("FR", "Paris", "75002", "Rue de la Paix", "SAS"),
    EuPlace("FR", "Lyon", "69002", "Rue de la République", "SAS"),
)
