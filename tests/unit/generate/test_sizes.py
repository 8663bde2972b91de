"""Any size a user may ask for generates (down to 1 customer x 1 day x 1 store x 1 SKU); dirt that has nothing to
land on is left out and listed under the manifest's `dirt_skipped`."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jobs.generate import GenerateParams, generate
from jobs.generate.dirt import row_sources
from jobs.generate.dirt_files import NEW_COLUMN, TWICE_SOURCES
from jobs.generate.rawread import find, read_rows
from jobs.generate.specs import SPECS

# customers, days, stores, skus, seed; 300x14, 300x20, 500x14 and 50x10 are the command line's sizes (conf: 20
# stores, 500 SKUs) that used to fail; the seeds are ones that failed
SIZES = [
    (1, 1, 1, 1, 7),
    (1, 2, 1, 1, 7),
    (5, 3, 1, 1, 7),
    (300, 14, 20, 500, 7),
    (300, 20, 20, 500, 7),
    (500, 14, 20, 500, 1),
    (50, 10, 20, 500, 7),
    (20, 7, 1, 3, 7),
    (40, 16, 1, 10, 2),
    (3, 30, 2, 2, 7),
]
FILE_DIRT = {("late_file", "pos_transactions"), ("late_file", "web_events"), ("new_column", NEW_COLUMN[0])}
ORDER_KEYS = {"web_orders": "order_id", "app_orders": "order_id", "marketplace_orders": "order_id"}
PATH = re.compile(r"^([a-z_]+)/(\d{4}-\d{2}-\d{2})/\1_(\d{4}-\d{2}-\d{2})(_late(_S\d{3})?)?\.(csv|jsonl|parquet)$")


@pytest.fixture(scope="module", params=SIZES, ids=lambda s: "{}x{}-stores{}-skus{}-seed{}".format(*s))
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    """One landing zone per size, with its manifest and every file read back as raw rows."""
    customers, days, stores, skus, seed = request.param
    root = tmp_path_factory.mktemp("size")
    generate(root, GenerateParams(customers=customers, days=days, stores=stores, skus=skus, seed=seed))
    manifest = json.loads((root / "_manifest.json").read_text(encoding="utf-8"))
    files = {str(p.relative_to(root)): read_rows(p) for p in sorted(root.rglob("*.*")) if p.name != "_manifest.json"}
    return root, manifest, files


def _days(manifest: dict) -> list[str]:
    first = date.fromisoformat(manifest["start_date"])
    return [(first + timedelta(days=d)).isoformat() for d in range(manifest["days"])]


def test_every_file_parses_with_its_columns(world: tuple[Path, dict, dict]) -> None:
    root, manifest, files = world
    days = _days(manifest)
    assert manifest["end_date"] == days[-1]
    assert files, "no landing file at all"
    new_col = [e for e in manifest["dirt"] if e["kind"] == "new_column"]
    since = new_col[0]["file"].split("/")[1] if new_col else "9999"
    for path, rows in files.items():
        hit = PATH.match(path)
        assert hit, path
        spec = SPECS[hit.group(1)]
        assert hit.group(6) == spec.fmt and hit.group(2) in days and hit.group(3) <= hit.group(2), path
        assert rows, path
        gift = spec.name == NEW_COLUMN[0] and hit.group(2) >= since
        expected = list(spec.columns) + ([NEW_COLUMN[1]] if gift else [])
        if spec.fmt == "parquet":
            assert pq.read_schema(root / path).names == expected, path
        elif spec.fmt == "csv":
            assert (root / path).read_text(encoding="utf-8").split("\n", 1)[0].split(",") == expected, path
        else:
            assert all(list(r) == expected for r in rows), path


def test_every_planted_dirt_row_is_found_by_its_match(world: tuple[Path, dict, dict]) -> None:
    _, manifest, files = world
    for e in manifest["dirt"]:
        found = find(files[e["file"]], e["match"])
        assert len(found) == 1 or (e["kind"] == "exact_duplicate" and len(found) == 2), (len(found), e)


def test_every_dirt_kind_is_planted_or_listed_as_skipped(world: tuple[Path, dict, dict]) -> None:
    _, manifest, _ = world
    assert manifest.get("dirt_skipped") != [], "the key is written only when something was skipped"
    skipped = manifest.get("dirt_skipped", [])
    for s in skipped:
        assert list(s) == ["kind", "source", "reason"] and s["source"] in SPECS and s["reason"], s
    planted = {(e["kind"], e["source"]) for e in manifest["dirt"]}
    listed = {(s["kind"], s["source"]) for s in skipped}
    expected = {(k, s) for k, sources in row_sources().items() for s in sources} | FILE_DIRT
    assert expected <= planted | listed, sorted(expected - planted - listed)
    twice = {("file_dropped_twice", s) for s in TWICE_SOURCES}
    assert twice & (planted | listed), "file_dropped_twice neither planted nor skipped"
    assert listed <= expected | twice


def test_a_shortfall_states_how_many_were_planted(world: tuple[Path, dict, dict]) -> None:
    """'k of n ... planted' in a reason: the dirt list holds exactly k entries of that kind and source."""
    _, manifest, _ = world
    for s in manifest.get("dirt_skipped", []):
        hit = re.match(r"^(\d+) of (\d+) ", s["reason"])
        if hit is None:
            continue
        planted = [e for e in manifest["dirt"] if (e["kind"], e["source"]) == (s["kind"], s["source"])]
        assert len(planted) == int(hit.group(1)) < int(hit.group(2)), (s, len(planted))


def test_sources_without_rows_before_the_last_day_skip_their_row_dirt(world: tuple[Path, dict, dict]) -> None:
    """Row dirt needs a clean row delivered before the last day (its copy or update lands a day later)."""
    _, manifest, files = world
    last = manifest["end_date"]
    early = {p.split("/")[0] for p in files if p.split("/")[1] < last}
    listed = {(s["kind"], s["source"]) for s in manifest.get("dirt_skipped", [])}
    for kind, sources in row_sources().items():
        for source in sources:
            if source not in early:
                assert (kind, source) in listed, (kind, source)
                assert not [e for e in manifest["dirt"] if (e["kind"], e["source"]) == (kind, source)]


def test_truth_lies_inside_the_period_and_the_files(world: tuple[Path, dict, dict]) -> None:
    _, manifest, files = world
    days, truth = _days(manifest), manifest["truth"]
    skus = {r["sku"] for p, rows in files.items() if p.startswith("products/") for r in rows}
    for window in truth["promotions"] + truth["stockouts"]:
        assert days[0] <= window["start"] <= window["end"] <= days[-1], window
    assert {s for p in truth["promotions"] for s in p["skus"]} | set(truth["slow_movers"]) <= skus
    assert all(k["dropout_date"] is None or k["dropout_date"] in days for k in truth["person_keys"])
    order_ids = {
        str(r[key])
        for p, rows in files.items()
        for src, key in ORDER_KEYS.items()
        if p.startswith(f"{src}/")
        for r in rows
    }
    assert {o for f in truth["fraud"] for o in f["order_ids"]} <= order_ids


@pytest.mark.parametrize("field", ["customers", "days", "stores", "skus"])
def test_sizes_below_one_are_refused(field: str) -> None:
    GenerateParams(**{field: 1})
    with pytest.raises(ValueError, match=f"{field} must be >= 1"):
        GenerateParams(**{field: 0})


def test_a_blank_key_event_clone_moves_less_than_the_gap_between_two_events_of_a_session() -> None:
    """At 100k customers a clone shifted by up to 59 s landed on its session's next view of the same SKU, and its
    match found two rows: events of a session are at least 8 s apart, so the clone moves by 1-7 s."""
    import numpy as np

    from jobs.generate.dirt_kinds import DirtCtx, _nudge
    from jobs.generate.events import _within_session_offsets
    from jobs.generate.util import Calendar, parse_iso

    rng = np.random.default_rng(1)
    count = np.full(1000, 5)
    gaps = np.diff(_within_session_offsets(rng, np.repeat(np.arange(1000), 5), count).reshape(1000, 5), axis=1)
    assert gaps.min() >= 8_000  # the least gap (ms) the shifts below rely on
    ctx = DirtCtx(Calendar(date(2025, 1, 1), 10, 0.0, 0.0), np.random.default_rng(2), {})
    web = {"event_ts": "2025-04-21T01:49:42Z"}
    app = {"event_ts": 1_745_200_182_000}
    web_shifts = {
        parse_iso(_nudge(ctx, "web_events", web)["event_ts"]) - parse_iso(web["event_ts"]) for _ in range(500)
    }
    app_shifts = {_nudge(ctx, "app_events", app)["event_ts"] - app["event_ts"] for _ in range(500)}
    assert web_shifts == set(range(1, 8))
    assert min(app_shifts) > 0 and max(app_shifts) < 8_000
