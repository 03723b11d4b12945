"""Places reference: city → districts → streets, with aliases, loaded from ``reference/places.yaml``.

Names arrive as 明山 / 明山区 / " 明山区 " and occasionally wrong; we resolve through the alias table and
return ``None`` for anything unknown so the caller reports it instead of guessing.
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

    def by_code(self, code: str) -> Place:
        return next(p for p in self.places if p.code == code)

    def resolve_district(self, raw: object) -> Place | None:
        """District (or 市本级 city level) for a name as a clerk wrote it, or None when unknown."""
        code = self.aliases.get(fold(raw))
        return self.by_code(code) if code else None

    def resolve_street(self, district_code: str, raw: object) -> Place | None:
        code = self.streets.get((district_code, fold(raw)))
        return self.by_code(code) if code else None

    @property
    def reporting_units(self) -> list[Place]:
        """Units that submit reports: the city level (市本级) and every district."""
        return [p for p in self.places if p.level in ("city", "district")]

    def alias_rows(self) -> list[dict]:
        return [{"alias": alias, "place_code": code} for alias, code in sorted(self.aliases.items())]


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
    return Places(tuple(places), aliases, streets)


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
