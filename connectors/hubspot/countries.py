"""Country names as CRMs store them (free text) → ISO 3166-1 alpha-2.

CRMs keep the country a person typed or picked ("United States", "Deutschland",
"UK"). The table covers the names and common variants of the countries revops
customers are in; a name it does not know is refused by the mapping so a person
can correct it, rather than guessed.
"""

from __future__ import annotations

import re

_NAMES = {
    "AE": ("united arab emirates", "uae"),
    "AR": ("argentina",),
    "AT": ("austria", "österreich", "osterreich"),
    "AU": ("australia",),
    "BE": ("belgium", "belgique", "belgië", "belgie"),
    "BG": ("bulgaria",),
    "BR": ("brazil", "brasil"),
    "CA": ("canada",),
    "CH": ("switzerland", "schweiz", "suisse", "svizzera"),
    "CL": ("chile",),
    "CN": ("china", "people's republic of china"),
    "CO": ("colombia",),
    "CY": ("cyprus",),
    "CZ": ("czech republic", "czechia"),
    "DE": ("germany", "deutschland"),
    "DK": ("denmark", "danmark"),
    "EE": ("estonia",),
    "EG": ("egypt",),
    "ES": ("spain", "españa", "espana"),
    "FI": ("finland", "suomi"),
    "FR": ("france",),
    "GB": ("united kingdom", "uk", "great britain", "england", "scotland", "wales", "northern ireland"),
    "GR": ("greece",),
    "HK": ("hong kong",),
    "HR": ("croatia",),
    "HU": ("hungary",),
    "ID": ("indonesia",),
    "IE": ("ireland",),
    "IL": ("israel",),
    "IN": ("india",),
    "IS": ("iceland",),
    "IT": ("italy", "italia"),
    "JP": ("japan",),
    "KR": ("south korea", "korea, republic of", "republic of korea", "korea"),
    "LT": ("lithuania",),
    "LU": ("luxembourg",),
    "LV": ("latvia",),
    "MT": ("malta",),
    "MX": ("mexico", "méxico"),
    "MY": ("malaysia",),
    "NL": ("netherlands", "the netherlands", "holland", "nederland"),
    "NO": ("norway", "norge"),
    "NZ": ("new zealand",),
    "PH": ("philippines",),
    "PL": ("poland", "polska"),
    "PT": ("portugal",),
    "RO": ("romania",),
    "SA": ("saudi arabia",),
    "SE": ("sweden", "sverige"),
    "SG": ("singapore",),
    "SI": ("slovenia",),
    "SK": ("slovakia",),
    "TH": ("thailand",),
    "TR": ("turkey", "türkiye", "turkiye"),
    "TW": ("taiwan",),
    "US": ("united states", "united states of america", "usa", "us", "u.s.", "u.s.a.", "america"),
    "ZA": ("south africa",),
}
_BY_NAME = {name: code for code, names in _NAMES.items() for name in names}
_CODES = frozenset(_NAMES)


def country_code(text: str) -> str | None:
    """The ISO code for a country name or code; "" for an empty value; None when unknown."""
    cleaned = re.sub(r"\s+", " ", text or "").strip()
    if not cleaned:
        return ""
    if len(cleaned) == 2 and cleaned.upper() in _CODES:
        return cleaned.upper()
    return _BY_NAME.get(cleaned.casefold())
