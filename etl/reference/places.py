"""Places reference: city → districts → streets, with aliases, loaded from ``reference/places.yaml``.

Names arrive as 明山 / 明山区 / " 明山区 " and occasionally wrong; we resolve through the alias table and
return ``None`` for anything unknown so the caller reports it instead of guessing. A name written with the
places above it (本溪市明山区, 辽宁省本溪市明山区 — how the 12345 platform writes it —, 明山区北地街道) or with its
office's title (北地街道办事处, 桥头镇人民政府) resolves when what is left once those words are taken off is a
known name of that level: a rule, not a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from etl.text import fold

PLACES_FILE = Path(__file__).with_name("places.yaml")


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    level: str  # city | district | street
    parent_code: str | None


@dataclass(frozen=True)
class Places:
    places: tuple[Place, ...]
    aliases: dict[str, str]  # folded alias → place code (city and districts)
    streets: dict[tuple[str, str], str]  # (district code, folded street name) → street code
    # folded names a district's or a street's name may be written after (辽宁省本溪市, 本溪市 …), longest first
    above_city: tuple[str, ...] = ()

    def by_code(self, code: str) -> Place:
        return next(p for p in self.places if p.code == code)

    def resolve_district(self, raw: object) -> Place | None:
        """District (or 市本级 city level) for a name as a clerk wrote it, or None when unknown."""
        name = fold(raw)
        code = self.aliases.get(name)
        if code is None:  # 本溪市明山区, 明山区人民政府: a district's name, qualified
            code = next(filter(None, map(self._district_code, _unqualified(name, self.above_city))), None)
        return self.by_code(code) if code else None

    def resolve_street(self, district_code: str, raw: object) -> Place | None:
        name = fold(raw)
        code = self.streets.get((district_code, name))
        if code is None:  # 明山区北地街道, 北地街道办事处: a street's name, qualified
            above = self._district_names(district_code)
            found = (self.streets.get((district_code, rest)) for rest in _unqualified(name, above))
            code = next(filter(None, found), None)
        return self.by_code(code) if code else None

    def _district_code(self, name: str) -> str | None:
        """The code of a district (not the city) of this name as written, or None."""
        code = self.aliases.get(name)
        return code if code and code != self.places[0].code else None

    def _district_names(self, district_code: str) -> tuple[str, ...]:
        """The folded prefixes a street of this district may be written after: the district's names, each
        alone and after the city's, longest first."""
        names = [alias for alias, code in self.aliases.items() if code == district_code]
        return tuple(
            sorted({*names, *(city + name for city in self.above_city for name in names)}, key=len, reverse=True)
        )

    @property
    def reporting_units(self) -> list[Place]:
        """Units that submit reports: the city level (市本级) and every district."""
        return [p for p in self.places if p.level in ("city", "district")]

    def alias_rows(self) -> list[dict]:
        return [{"alias": alias, "place_code": code} for alias, code in sorted(self.aliases.items())]


# an office's title after a place's name: 北地街道办事处, 桥头镇人民政府, 明山区人民政府
OFFICE_TITLES = ("办事处", "人民政府")


def _unqualified(name: str, above: tuple[str, ...]) -> list[str]:
    """``name`` without one of the names ``above`` it at its start and/or an office title at its end: what
    is left may be the name itself (looked up exactly by the caller; never empty)."""
    bare = [name[: -len(title)] for title in OFFICE_TITLES if name.endswith(title)] or [name]
    forms = [*bare]
    for text in bare:
        forms += [text[len(prefix) :] for prefix in above if text.startswith(prefix)]
    return [form for form in dict.fromkeys(forms) if form and form != name]


def load_places(path: Path = PLACES_FILE) -> Places:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    city = data["city"]
    places: list[Place] = [Place(city["code"], city["name"], "city", None)]
    aliases: dict[str, str] = {fold(city["name"]): city["code"]}
    aliases.update({fold(a): city["code"] for a in city.get("aliases", [])})
    for d in data["districts"]:
        places.append(Place(d["code"], d["name"], "district", city["code"]))
        for alias in [d["name"], *d.get("aliases", [])]:
            aliases[fold(alias)] = d["code"]
    streets: dict[tuple[str, str], str] = {}
    for district_code, names in data.get("streets", {}).items():
        for i, name in enumerate(names, start=1):
            code = f"{district_code}{i:03d}"
            places.append(Place(code, name, "street", str(district_code)))
            streets[(str(district_code), fold(name))] = code
    _add_short_street_names(streets)
    return Places(tuple(places), aliases, streets, _above_city(city, data.get("province", {})))


def _above_city(city: dict, province: dict) -> tuple[str, ...]:
    """The folded ways the city (本溪市, 本溪), alone or after its province (辽宁省, 辽宁), may be written
    before a district's name."""
    cities = {fold(city["name"]), fold(city["name"]).removesuffix("市")} - {""}
    provinces = {fold(name) for name in (province.get("name"), *province.get("aliases", [])) if name}
    return tuple(sorted(cities | {p + c for p in provinces for c in cities}, key=len, reverse=True))


_STREET_SUFFIX = re.compile(r"(街道|镇|乡)$")


def _add_short_street_names(streets: dict[tuple[str, str], str]) -> None:
    """Clerks write 北地 for 北地街道 as they write 明山 for 明山区: a street's name without its suffix resolves
    too, when no other street of the district shares it and it is not a full name itself."""
    short: dict[tuple[str, str], set[str]] = {}
    for (district, name), code in streets.items():
        bare = _STREET_SUFFIX.sub("", name)
        if bare and bare != name:
            short.setdefault((district, bare), set()).add(code)
    for key, codes in short.items():
        if len(codes) == 1 and key not in streets:
            streets[key] = next(iter(codes))


@lru_cache(maxsize=1)
def default_places() -> Places:
    return load_places()
