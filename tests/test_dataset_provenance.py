"""The curated dataset keeps every raw report and its numbers unchanged.

Reads ``data/dprk_reports.csv`` (curated) and ``data/sources/dprk_public_reports.csv``
(raw, kept untouched) as plain text, without nkest, so a change to the loader cannot hide a
change to the data.
"""

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).parents[1]
CURATED = ROOT / "data" / "dprk_reports.csv"
RAW = ROOT / "data" / "sources" / "dprk_public_reports.csv"

COLUMNS = [
    "report_id",
    "published",
    "as_of",
    "source",
    "source_group",
    "quantity",
    "value",
    "value_high",
    "qualifier",
    "scope",
    "period_start",
    "period_end",
    "constraint",
    "exclude",
    "relayed_by",
    "citation",
    "date_confidence",
    "note",
]
UNCHANGED = ["value", "value_high", "source", "quantity", "published", "report_id"]
SEED_ID = re.compile(r"dprk-1\d\d")
SEED_FILE = re.compile(r"seeds/\d{3}_[0-9a-f]{16}\.txt")


def _read(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame.apply(lambda col: col.str.strip())


@pytest.fixture(scope="module")
def curated() -> pd.DataFrame:
    return _read(CURATED)


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return _read(RAW)


def test_columns_follow_the_report_format():
    with CURATED.open(newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert header == COLUMNS


def test_report_ids_are_unique(curated):
    dup = sorted(curated.loc[curated["report_id"].duplicated(), "report_id"])
    assert not dup, f"duplicate report_id: {dup}"


def test_every_raw_report_is_kept(curated, raw):
    missing = sorted(set(raw["report_id"]) - set(curated["report_id"]))
    assert not missing, f"raw report_id missing from the curated file: {missing}"


def test_raw_rows_keep_their_numbers_and_citation(curated, raw):
    # Duplicates are reported by test_report_ids_are_unique.
    cur = curated.drop_duplicates("report_id").set_index("report_id", drop=False)
    problems = []
    for _, row in raw.iterrows():
        rid = row["report_id"]
        if rid not in cur.index:
            continue  # reported by test_every_raw_report_is_kept
        new = cur.loc[rid]
        problems += [
            f"{rid}: {col} {row[col]!r} became {new[col]!r}"
            for col in UNCHANGED
            if new[col] != row[col]
        ]
        if row["citation"] not in new["citation"]:
            problems.append(f"{rid}: citation no longer contains the raw citation")
    assert not problems, "\n".join(problems)


def test_every_row_has_a_citation(curated):
    bad = sorted(curated.loc[curated["citation"] == "", "report_id"])
    assert not bad, f"empty citation: {bad}"


def test_added_rows_come_from_the_seeds(curated, raw):
    added = curated[~curated["report_id"].isin(raw["report_id"])]
    not_seed = sorted(rid for rid in added["report_id"] if not SEED_ID.fullmatch(rid))
    assert not not_seed, f"rows in neither the raw file nor the seeds (dprk-1NN): {not_seed}"
    seed_rows = curated[curated["report_id"].map(lambda rid: bool(SEED_ID.fullmatch(rid)))]
    uncited = sorted(seed_rows.loc[~seed_rows["citation"].str.contains(SEED_FILE), "report_id"])
    assert not uncited, f"seed row does not cite a seed file: {uncited}"


def test_blank_values_are_excluded_with_a_reason(curated):
    bad = sorted(curated.loc[(curated["value"] == "") & (curated["exclude"] == ""), "report_id"])
    assert not bad, f"blank value without an exclude reason: {bad}"
