"""Values far above a street's own history (its earlier days), flagged as warnings (loaded, but worth a look).

A robust z-score against the street's earlier current figures, as DHIS2 does: with the median m and the
median absolute deviation MAD of at least MIN_HISTORY earlier values, z = 0.6745·(x − m) / MAD and
z > THRESHOLD is an outlier. Where MAD is 0 (a street that always reports the same number) the history's
maximum, widened by half its median, is the bound instead. Only upward jumps are flagged — the typical
slip is an extra digit, while falling figures are normal as a flood recedes — and only when the value is
above everything the street reported before and at least MIN_JUMP above its median: on small counts
(5 toilets against a usual 2) the z-score is noise.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from etl.ingest import findings as F
from etl.ingest.parse.tables import SOURCE_ROW, ParsedReport

MIN_HISTORY = 5
THRESHOLD = 3.5
MIN_JUMP = 10


def flag_outliers(report: ParsedReport, engine) -> None:
    contract, frame = report.contract, report.frame
    columns = [c for c in contract.history_columns if c in frame]
    if not columns or report.district is None or "street" not in frame or contract.date_column not in frame:
        return
    history = _history(engine, contract.fact_table, columns, report.district.code, contract.date_column)
    if history.empty:
        return
    for i, row in frame.iterrows():  # one file holds one district-day: a handful of streets
        # earlier days only: a late report of the peak day must not be judged against the recession after it
        past = history[(history["street"] == row["street"]) & (history["day"] < str(row[contract.date_column]))]
        if len(past) < MIN_HISTORY:
            continue
        for name in columns:
            value = row[name]
            values = pd.to_numeric(past[name], errors="coerce").dropna()
            if pd.isna(value) or len(values) < MIN_HISTORY:
                continue
            verdict = judge(float(value), values)
            if verdict:
                report.add_cell(
                    "outlier",
                    F.WARNING,
                    f"数值 {float(value):g} 与该街道此前{len(values)}次填报相比明显{verdict}"
                    f"（中位数 {values.median():g}），请核实是否填错",
                    f"{float(value):g} is an outlier against the street's history (median {values.median():g})",
                    name,
                    int(frame[SOURCE_ROW].iat[i]),
                    value,
                    sheet=report.sheet_of(i),
                )


def judge(value: float, history: pd.Series) -> str | None:
    median = float(history.median())
    if value <= history.max() or value - median < MIN_JUMP:
        return None
    mad = float((history - median).abs().median())
    if mad > 0:
        return "偏高" if 0.6745 * (value - median) / mad > THRESHOLD else None
    return "偏高" if value > history.max() + abs(median) * 0.5 else None


def _history(engine, table: str, columns: list[str], district: str, date_column: str) -> pd.DataFrame:
    """The district's current facts; table and column names come from the contract, values are bound."""
    quoted = ", ".join(f"f.{c}" for c in columns)
    sql = sa.text(
        f"SELECT f.street, CAST(f.{date_column} AS VARCHAR(32)) AS day, {quoted} FROM {table} f "
        "JOIN stg_file_load l ON l.load_id = f.load_id AND l.is_current = 1 WHERE f.district = :d"
    )
    with engine.connect() as conn:
        return pd.read_sql(sql, conn, params={"d": district})
