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

ROOT = Path(__file__).parents[2]
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
AUDIT_ID = re.compile(r"dprk-2\d\d")
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


def test_added_rows_come_from_the_seeds_or_a_quoted_publication(curated, raw):
    """Rows beyond the raw file: from the seeds (dprk-1NN, citing a seed file), or added by
    the 2026.12 audit (dprk-2NN), each citing its publication and quoting it."""
    added = curated[~curated["report_id"].isin(raw["report_id"])]
    unknown = sorted(
        rid for rid in added["report_id"] if not (SEED_ID.fullmatch(rid) or AUDIT_ID.fullmatch(rid))
    )
    assert not unknown, f"rows in neither the raw file, the seeds nor the audit: {unknown}"
    seed_rows = curated[curated["report_id"].map(lambda rid: bool(SEED_ID.fullmatch(rid)))]
    uncited = sorted(seed_rows.loc[~seed_rows["citation"].str.contains(SEED_FILE), "report_id"])
    assert not uncited, f"seed row does not cite a seed file: {uncited}"
    audited = curated[curated["report_id"].map(lambda rid: bool(AUDIT_ID.fullmatch(rid)))]
    assert len(audited) >= 30
    no_address = sorted(audited.loc[~audited["citation"].str.contains("http"), "report_id"])
    assert not no_address, f"added row without the address of its publication: {no_address}"
    # A lead whose quote was not found in any published page stays, excluded as unverified.
    unverified = audited["exclude"].str.contains("unverified")
    unquoted = ~audited["note"].str.contains("Quote:")
    bad = sorted(audited.loc[unquoted & ~unverified, "report_id"])
    assert not bad, f"added row without the quote it was checked against: {bad}"


def test_blank_values_are_excluded_with_a_reason(curated):
    bad = sorted(curated.loc[(curated["value"] == "") & (curated["exclude"] == ""), "report_id"])
    assert not bad, f"blank value without an exclude reason: {bad}"


# ---------------------------------------------------------------------------
# The raw file is the shared source material, all 86 rows, and stays untouched
# ---------------------------------------------------------------------------

SHARED = ROOT.parent / "shared"
"""The project's shared source material (``../shared`` of the repository), when present."""
README = ROOT / "data" / "README.md"


def _shared(path: str) -> Path:
    shared = SHARED / path
    if not shared.exists():
        pytest.skip(f"the shared source material is not here ({shared})")
    return shared


@pytest.mark.parametrize(
    ("copy", "original"),
    [
        (RAW, "data/dprk_public_reports.csv"),
        (RAW.with_name("README.md"), "data/README.md"),
    ],
    ids=["csv", "readme"],
)
def test_raw_copy_is_byte_identical_to_the_shared_file(copy, original):
    assert copy.read_bytes() == _shared(original).read_bytes()


def test_raw_file_holds_the_86_reports(raw):
    assert raw["report_id"].tolist() == [f"dprk-{n:03d}" for n in range(1, 87)]


# Every cell of a raw row that the curated file changes, with the raw and curated
# value. Each is explained in data/README.md ("Curation decisions"); any other change
# to a raw cell fails test_raw_rows_change_only_documented_cells.
DOCUMENTED_CHANGES = {
    ("dprk-021", "scope"): ("period", "incident"),
    ("dprk-022", "scope"): ("period", "incident"),
    ("dprk-025", "period_start"): ("", "2024-12-15"),
    ("dprk-026", "period_start"): ("", "2024-12-15"),
    ("dprk-029", "period_start"): ("", "2024-12-22"),
    ("dprk-038", "period_start"): ("", "2025-01-07"),
    ("dprk-084", "scope"): ("period", "incident"),
    ("dprk-084", "period_start"): ("", "2025-08-14"),
    ("dprk-084", "date_confidence"): ("high", "low"),
}
APPENDED_CITATION = re.compile(r"( ; seeds/\d{3}_[0-9a-f]{16}\.txt \([^)]*\))+")


def test_raw_rows_change_only_documented_cells(curated, raw):
    cur = curated.drop_duplicates("report_id").set_index("report_id")
    problems = []
    for _, row in raw.iterrows():
        rid = row["report_id"]
        new = cur.loc[rid]
        for col in raw.columns.drop(["report_id", "citation"]):
            change = (row[col], new[col])
            if change != (row[col], row[col]) and DOCUMENTED_CHANGES.get((rid, col)) != change:
                problems.append(f"{rid}: {col} {row[col]!r} became {new[col]!r}")
        added = new["citation"].removeprefix(row["citation"])
        if not new["citation"].startswith(row["citation"]) or (
            added and not APPENDED_CITATION.fullmatch(added)
        ):
            problems.append(f"{rid}: citation is not the raw citation plus seed files")
    for rid, col in DOCUMENTED_CHANGES:
        if cur.loc[rid, col] != DOCUMENTED_CHANGES[rid, col][1]:
            problems.append(f"{rid}: documented change of {col} is not in the file")
    assert not problems, "\n".join(problems)


NOT_AN_OBSERVATION = re.compile(r"forecast|not a count|mixed|no number given|conflates", re.I)


def test_rows_that_do_not_observe_their_quantity_are_kept_but_excluded(curated, raw):
    flagged = raw.loc[raw["note"].str.contains(NOT_AN_OBSERVATION), "report_id"]
    assert len(flagged) >= 8  # the raw file's forecasts, mixed units, words and conflation
    cur = curated.set_index("report_id")
    used = sorted(rid for rid in flagged if not cur.loc[rid, "exclude"])
    assert not used, f"rows whose raw note says they are no observation are used: {used}"


def _curation_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("## Curation decisions", 1)[1].split("\n## ", 1)[0]


def test_readme_documents_every_curation_decision(curated, raw):
    section = _curation_section()
    raw_rows = raw.set_index("report_id")
    undocumented = []
    for _, row in curated.iterrows():
        rid = row["report_id"]
        decided = bool(row["exclude"] or row["constraint"]) or rid not in raw_rows.index
        if not decided:
            old = raw_rows.loc[rid]
            decided = row["citation"] != old["citation"] or any(
                row[col] != old[col] for col in raw.columns.drop("report_id")
            )
        if decided and not re.search(rf"\b{rid}\b", section):
            undocumented.append(rid)
    assert not undocumented, f"not explained in data/README.md: {undocumented}"


def test_readme_counts_match_the_file(curated):
    text = README.read_text(encoding="utf-8")
    used = curated["exclude"] == ""
    for quantity in ["killed", "wounded", "casualties", "captured", "missing", "deployed"]:
        rows = curated["quantity"] == quantity
        line = f"| {quantity} | {(rows & used).sum()} | {(rows & ~used).sum()} | {rows.sum()} |"
        assert line in text, line
    total = f"| **all** | **{used.sum()}** | **{(~used).sum()}** | **{len(curated)}** |"
    assert total in text, total


# ---------------------------------------------------------------------------
# Every figure in the seed articles is in the dataset
# ---------------------------------------------------------------------------

SEEDS = {
    "000": "000_b05df4e0bb5c5242.txt",
    "001": "001_8afd3932c7d1e9d9.txt",
    "002": "002_a3c89891c4c0c1a8.txt",
    "003": "003_f1b1d7dda670f1b1.txt",
    "004": "004_729d79f9d40065cc.txt",
}

# (seed, words as in the article, the row holding the figure, its value and value_high).
# A value of None is a statement without a number, kept as an excluded row.
SEED_FIGURES = [
    ("000", "Seoul estimates around 600", "dprk-101", "600", ""),
    ("000", "with thousands more wounded", "dprk-102", None, ""),
    ("000", "sent more than 10,000 soldiers to Russia in 2024", "dprk-103", "10000", ""),
    ("001", "approximately 12,000 North Korean soldiers", "dprk-019", "12000", ""),
    ("001", "six North Korean officers were killed", "dprk-003", "6", ""),
    ("002", "more than 6,000 casualties", "dprk-069", "6000", ""),
    ("002", "approximately 11,000 DPRK troops initially deployed", "dprk-070", "11000", ""),
    ("002", "over 5,000 North Korean troop casualties", "dprk-061", "5000", ""),
    ("002", "After deploying some 11,000 troops", "dprk-060", "11000", ""),
    ("002", "an additional 3,000 soldiers", "dprk-059", "3000", ""),
    ("002", "some 4,700 casualties", "dprk-064", "4700", ""),
    ("002", "including about 600 deaths", "dprk-065", "600", ""),
    ("003", "at least 100 fatalities", "dprk-027", "100", ""),
    ("003", "approaching 1,000", "dprk-028", "1000", ""),
    ("003", "at least 30 casualties", "dprk-021", "30", ""),
    ("003", "approximately 10,000 North Korean soldiers", "dprk-104", "10000", ""),
    ("004", "War Cross 4,700", "dprk-105", "4700", ""),
    ("004", "an estimated 4,700 North Korean soldiers", "dprk-064", "4700", ""),
    ("004", "at least 600 confirmed deaths", "dprk-106", "600", ""),
    ("004", "Total North Korean casualties: Approximately 4,700", "dprk-064", "4700", ""),
    ("004", "Confirmed deaths: Around 600", "dprk-065", "600", ""),
    ("004", "Injured soldiers: About 4,100", "dprk-066", "4100", ""),
    ("004", "Repatriated wounded soldiers: 2,000", "dprk-067", "2000", ""),
    ("004", "troops sent since last fall: 10,000–12,000", "dprk-107", "10000", "12000"),
    ("004", "Additional troops deployed in 2025: About 3,000", "dprk-108", "3000", ""),
    ("004", "15,000 North Korean workers", "dprk-068", "15000", ""),
]

# Numbers in the seeds that are not figures of North Korean losses or troops: dates,
# times, ranks, the S-60 gun, and the unrelated articles on the seed 002 page.
NOT_FIGURES = {
    "000": {"2024", "2025", "08", "30", "9", "6", "7"},  # dates, a webinar at 6PM-7PM
    "001": {"60"},  # "S-60 anti-aircraft gun"
    "002": {  # dates and times; the leaflet, trial and G7 articles; "$2.5 billion" of aid
        "10", "12", "16", "1950", "53", "1977", "1978", "2", "2.5", "2023", "2025", "27",
        "3", "4", "7", "8", "9",
    },
    "003": set(),
    "004": {"2", "2024", "2025", "30"},  # "2 min read", years, "Apr 30"
}  # fmt: skip
NUMBER = re.compile(r"[0-9][0-9,.]*[0-9]|[0-9]")


@pytest.mark.parametrize(
    ("seed", "words", "rid", "value", "value_high"),
    SEED_FIGURES,
    ids=[f"{seed}-{rid}-{words[:24]}" for seed, words, rid, *_ in SEED_FIGURES],
)
def test_seed_figure_is_in_the_dataset(curated, seed, words, rid, value, value_high):
    row = curated.set_index("report_id").loc[rid]
    assert f"seeds/{SEEDS[seed]}" in row["citation"]
    if value is None:
        assert row["value"] == ""
        assert row["exclude"], "a statement without a number is excluded with a reason"
    else:
        assert (row["value"], row["value_high"]) == (value, value_high)
    seed_file = SHARED / "seeds" / SEEDS[seed]
    if seed_file.exists():
        assert words in seed_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_every_number_in_a_seed_is_a_listed_figure_or_not_a_figure(seed):
    text = _shared(f"seeds/{SEEDS[seed]}").read_text(encoding="utf-8")
    listed = {n for s, words, *_ in SEED_FIGURES if s == seed for n in NUMBER.findall(words)}
    unlisted = set(NUMBER.findall(text)) - listed - NOT_FIGURES[seed]
    assert not unlisted, f"numbers in seed {seed} not in SEED_FIGURES: {sorted(unlisted)}"
    stale = NOT_FIGURES[seed] - set(NUMBER.findall(text))
    assert not stale, f"NOT_FIGURES lists numbers that are not in seed {seed}: {sorted(stale)}"
