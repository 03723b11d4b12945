"""The reporting calendar (reference/calendar.yaml) expanded into expected reports with deadlines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from etl.reference.periods import period_end
from etl.reference.places import Places, default_places

CALENDAR_FILE = Path(__file__).with_name("calendar.yaml")


@dataclass(frozen=True)
class ExpectedReport:
    report_type: str
    district_code: str
    period: str
    deadline: dt.datetime

    def as_dict(self) -> dict:
        return {
            "report_type": self.report_type,
            "district_code": self.district_code,
            "period": self.period,
            "deadline": self.deadline,
        }


def _periods(frequency: str, first: str, last: str) -> list[str]:
    if frequency == "quarterly":
        y, q = int(first[:4]), int(first[-1])
        out = []
        while f"{y}Q{q}" <= last:
            out.append(f"{y}Q{q}")
            y, q = (y + 1, 1) if q == 4 else (y, q + 1)
        return out
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y}-{m:02d}" <= last:
        out.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def deadline_for(period: str, due: dict) -> dt.datetime:
    end = period_end(period)
    if "next_day_at" in due:
        hours, minutes = (int(x) for x in str(due["next_day_at"]).split(":"))
        return dt.datetime.combine(end + dt.timedelta(days=1), dt.time(hours, minutes))
    return dt.datetime.combine(end + dt.timedelta(days=int(due["days_after_period_end"]) + 1), dt.time())


def expected_reports(path: Path = CALENDAR_FILE, places: Places | None = None) -> list[ExpectedReport]:
    places = places or default_places()
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    units_all = [p.code for p in places.reporting_units]
    districts = [p.code for p in places.reporting_units if p.level == "district"]
    expected = []
    for report_type, rule in config["report_types"].items():
        if rule["frequency"] == "daily":
            for event in config.get("flood_events", []):
                codes = [places.resolve_district(name).code for name in event["districts"]]
                day, last = _as_date(event["from"]), _as_date(event["to"])
                while day <= last:
                    expected += [
                        ExpectedReport(report_type, code, day.isoformat(), deadline_for(day.isoformat(), rule["due"]))
                        for code in codes
                    ]
                    day += dt.timedelta(days=1)
            continue
        units = rule.get("units", "all")
        codes = (
            units_all
            if units == "all"
            else districts
            if units == "districts"
            else [places.resolve_district(name).code for name in units]
        )
        for period in _periods(rule["frequency"], str(rule["periods"]["from"]), str(rule["periods"]["to"])):
            expected += [ExpectedReport(report_type, code, period, deadline_for(period, rule["due"])) for code in codes]
    return expected


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


@lru_cache(maxsize=1)
def default_expected_reports() -> tuple[ExpectedReport, ...]:
    return tuple(expected_reports())
