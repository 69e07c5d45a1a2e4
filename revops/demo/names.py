"""Company and people names for the demo dataset, and the ids other systems
would know them by. Everything is drawn from a seeded `random.Random`."""

from __future__ import annotations

import random
import re
import string

US_COMPANY_STEMS = (
    "Northwind",
    "Blue Harbor",
    "Summit",
    "Redwood",
    "Granite",
    "Cascade",
    "Silverline",
    "Brightpath",
    "Ironclad",
    "Evergreen",
    "Pioneer",
    "Lakeside",
    "Keystone",
    "Copperfield",
    "Meridian",
    "Harborview",
    "Clearwater",
    "Stonebridge",
    "Sagebrush",
    "Tallgrass",
    "Pinecrest",
    "Westfield",
    "Oakmont",
    "Highland",
    "Sterling",
    "Beacon",
    "Vantage",
    "Lighthouse",
    "Crescent",
    "Juniper",
    "Willow Creek",
    "Bluebonnet",
    "Falcon Ridge",
    "Union Square",
    "Golden Gate",
)
US_COMPANY_TRADES = (
    "Analytics",
    "Logistics",
    "Health",
    "Robotics",
    "Software",
    "Labs",
    "Foods",
    "Energy",
    "Financial",
    "Media",
    "Biosciences",
    "Manufacturing",
    "Retail",
    "Networks",
    "Systems",
    "Learning",
    "Insurance",
    "Hospitality",
    "Mobility",
    "Security",
    "Freight",
    "Dental Partners",
    "Realty",
    "Outdoor",
)
US_COMPANY_SUFFIXES = ("Inc.", "Inc.", "Inc.", "LLC", "LLC", "Corp.", "Co.", "Group", "Holdings")

# Tax-exempt customers are public or non-profit bodies.
US_EXEMPT_KINDS = (
    "Community College",
    "School District",
    "Children's Hospital Foundation",
    "Public Library",
    "University",
    "Food Bank",
)

DE_COMPANY_STEMS = (
    "Bergmann",
    "Hansa",
    "Nordlicht",
    "Rheinblick",
    "Alpenland",
    "Elbtal",
    "Schwarzwald",
    "Isartal",
    "Spreeufer",
    "Weserbogen",
    "Brandt",
    "Keller",
    "Hofmann",
    "Lindner",
    "Vogel",
    "Sonnenberg",
    "Falkenstein",
    "Eichenwald",
    "Mainfranken",
    "Bodensee",
    "Harzer",
    "Havelland",
    "Ostsee",
    "Taunus",
    "Donau",
)
DE_COMPANY_TRADES = (
    "Logistik",
    "Maschinenbau",
    "Medizintechnik",
    "Software",
    "Energie",
    "Bau",
    "Handel",
    "Consulting",
    "Automotive",
    "Immobilien",
    "Pharma",
    "Datensysteme",
    "Feinmechanik",
    "Lebensmittel",
    "Elektrotechnik",
    "Digital",
    "Verpackung",
    "Spedition",
)
DE_COMPANY_SUFFIXES = ("GmbH", "GmbH", "GmbH", "AG", "GmbH & Co. KG", "SE", "KG")

US_FIRST = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Christopher",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Priya",
    "Wei",
    "Carlos",
    "Aisha",
    "Hiroshi",
    "Fatima",
    "Diego",
    "Mei",
)
US_LAST = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Patel",
    "Nguyen",
    "Kim",
    "Chen",
    "O'Brien",
)
DE_FIRST = (
    "Anna",
    "Lukas",
    "Lena",
    "Felix",
    "Laura",
    "Jonas",
    "Julia",
    "Leon",
    "Sarah",
    "Maximilian",
    "Katharina",
    "Paul",
    "Sophie",
    "Tobias",
    "Hannah",
    "Jan",
    "Stefan",
    "Sabine",
    "Thomas",
    "Andrea",
    "Michael",
    "Claudia",
    "Markus",
    "Petra",
    "Florian",
    "Jürgen",
)
DE_LAST = (
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hartmann",
    "Lange",
    "Werner",
    "Weiß",
)
US_CONTACT_ROLES = ("Accounts payable", "Controller", "VP Finance", "Procurement", "IT Director")
DE_CONTACT_ROLES = ("Kreditorenbuchhaltung", "Leitung Finanzen", "Einkauf", "Controlling", "IT-Leitung")

_TRANSLITERATE = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "'": ""})
_BASE62 = string.digits + string.ascii_letters


def company_names(rng: random.Random, stems, trades, count: int) -> list[str]:
    """`count` distinct names "Stem Trade" (the legal form is added by the caller)."""
    pairs = [(stem, trade) for stem in stems for trade in trades]
    if count > len(pairs):
        raise ValueError(f"Only {len(pairs)} distinct company names can be made, not {count}.")
    return [f"{stem} {trade}" for stem, trade in rng.sample(pairs, count)]


def slug(text: str) -> str:
    text = text.lower().translate(_TRANSLITERATE)
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def company_domain(name: str) -> str:
    """A mail domain for a company, under the reserved `.example` top-level domain."""
    words = [
        w for w in slug(name).split("-") if w not in {"inc", "llc", "corp", "co", "gmbh", "ag", "kg", "se"}
    ]
    return "-".join(words[:2]) + ".example"


def person(rng: random.Random, german: bool) -> tuple[str, str]:
    """(full name, local part of an email address)."""
    first = rng.choice(DE_FIRST if german else US_FIRST)
    last = rng.choice(DE_LAST if german else US_LAST)
    return f"{first} {last}", slug(f"{first}.{last}").replace("-", ".")


def base62(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_BASE62) for _ in range(length))


def stripe_id(rng: random.Random, prefix: str) -> str:
    """An id shaped like Stripe's: `cus_`, `sub_`, `in_`, `pi_`, `prod_`, `price_`."""
    return f"{prefix}_{base62(rng, 24 if prefix in ('pi', 'in', 'price') else 14)}"


def salesforce_id(rng: random.Random, key_prefix: str) -> str:
    """An 18-character Salesforce id: key prefix (001 account, 800 contract), pod, record."""
    return key_prefix + "5g" + "0000" + base62(rng, 9)


# EIN prefixes the IRS assigns; the rest of an EIN is any seven digits.
_EIN_PREFIXES = (
    "10",
    "12",
    "20",
    "26",
    "27",
    "30",
    "33",
    "35",
    "38",
    "45",
    "46",
    "47",
    "51",
    "52",
    "54",
    "61",
    "71",
    "81",
    "82",
    "83",
    "84",
    "88",
    "92",
    "93",
)


def us_ein(rng: random.Random) -> str:
    return f"{rng.choice(_EIN_PREFIXES)}-{rng.randint(1_000_000, 9_999_999)}"


def vat_id(rng: random.Random, country: str) -> str:
    """A VAT number that has the country's format (no check digit is computed)."""
    if country == "DE":
        return f"DE{rng.randint(100_000_000, 999_999_999)}"
    if country == "AT":
        return f"ATU{rng.randint(10_000_000, 99_999_999)}"
    if country == "NL":
        return f"NL{rng.randint(100_000_000, 999_999_999)}B{rng.randint(1, 99):02d}"
    if country == "FR":
        return f"FR{rng.randint(10, 99)}{rng.randint(100_000_000, 999_999_999)}"
    raise ValueError(f"No VAT number format for {country}.")
