"""Ground-truth properties of the tiny run: funnel events, identity, fraud, churn, returns, campaigns."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from jobs.generate.util import normalize_email, normalize_phone

from ._landing import epoch, source_rows, tiny_landing, valid_orders


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The shared tiny landing zone and its manifest."""
    return tiny_landing(tmp_path_factory)


def test_online_orders_are_preceded_by_their_session_events(run: tuple[Path, dict]) -> None:
    root, _ = run
    pairs = (("web_orders", "web_events", "account_id"), ("app_orders", "app_events", "user_id"))
    for orders_src, events_src, who in pairs:
        orders = valid_orders(root, orders_src).drop_duplicates("order_id")
        ev = source_rows(root, events_src)
        ev["_epoch"] = [epoch(v) if isinstance(v, (int, str)) else None for v in ev["event_ts"]]
        ev = ev[ev["_epoch"].notna()]
        order_events = ev[ev["event_type"] == "order"]
        keys = zip(order_events[who], order_events["_epoch"], order_events["session_id"], strict=True)
        sessions = {(a, int(t)): s for a, t, s in keys}
        by_session = {s: g for s, g in ev.groupby("session_id")}
        assert len(orders) > 10
        for account, ts in zip(orders[who], orders["_epoch"], strict=True):
            session = sessions[(account, int(ts))]
            before = by_session[session]
            before = before[before["_epoch"] < int(ts)]
            assert {"view", "cart", "checkout"} <= set(before["event_type"]), (account, ts)
        counts = ev["event_type"].value_counts()
        assert counts["view"] > 2 * counts["cart"] and counts["cart"] > counts["order"] > counts["paid"]
        assert ev[who].isna().any()


def _crm(root: Path) -> pd.DataFrame:
    crm = source_rows(root, "crm_members")
    crm = crm[crm["member_id"].ne("") & crm["tier"].isin({"basic", "silver", "gold", "platinum"})]
    return crm.sort_values("updated_at").drop_duplicates("member_id", keep="last").set_index("member_id")


def test_cross_channel_persons_share_normalized_phone_and_email(run: tuple[Path, dict]) -> None:
    root, manifest = run
    crm = _crm(root)
    contact: dict[str, dict[str, set[str]]] = defaultdict(lambda: {"phone": set(), "email": set()})
    for src, who, phone in (
        ("web_orders", "account_id", "phone"),
        ("app_orders", "user_id", "phone"),
        ("marketplace_orders", "buyer_id", "buyer_phone"),
    ):
        df = valid_orders(root, src)
        for account, raw_phone, raw_email in zip(df[who], df[phone], df.get("email", df[phone]), strict=True):
            contact[account]["phone"].add(normalize_phone(raw_phone or None))
            if src == "web_orders":
                contact[account]["email"].add(normalize_email(raw_email))
    owner: dict[tuple[str, str], set[str]] = defaultdict(set)
    linked = 0
    for person in manifest["truth"]["person_keys"]:
        accounts = person["web_account_ids"] + person["app_user_ids"] + person["marketplace_buyer_ids"]
        member = person["crm_member_id"]
        for account in accounts:
            phones = contact[account]["phone"] - {None}
            emails = contact[account]["email"]
            for value in phones:
                owner[("phone", value)].add(person["person_id"])
            for value in emails:
                owner[("email", value)].add(person["person_id"])
            if member and phones:
                assert phones == {normalize_phone(crm.at[member, "phone"])}, (person, phones)
                assert emails <= {normalize_email(crm.at[member, "email"])}, (person, emails)
                linked += 1
    assert linked >= 10
    assert all(len(people) == 1 for people in owner.values())


def test_fraud_patterns(run: tuple[Path, dict]) -> None:
    root, manifest = run
    fraud = {f["kind"]: f for f in manifest["truth"]["fraud"]}
    assert set(fraud) == {"ring", "velocity", "large_amount"}
    web = valid_orders(root, "web_orders")
    ring = web[web["account_id"].isin(fraud["ring"]["account_ids"])]
    assert len(fraud["ring"]["account_ids"]) >= 6
    assert set(ring["order_id"]) == set(fraud["ring"]["order_ids"])
    assert {normalize_phone(p) for p in ring["phone"] if p} == {normalize_phone(next(p for p in ring["phone"] if p))}
    ring_ids = set(fraud["ring"]["account_ids"])
    owners = [p for p in manifest["truth"]["person_keys"] if set(p["web_account_ids"]) & ring_ids]
    assert len(owners) == 1 and set(owners[0]["web_account_ids"]) == set(fraud["ring"]["account_ids"])
    app = valid_orders(root, "app_orders")
    velo = app[app["user_id"].isin(fraud["velocity"]["account_ids"])].drop_duplicates("order_id")
    assert pd.to_datetime(velo["order_ts"], unit="ms").dt.date.value_counts().max() >= 30
    amount = (web["_units"] * web["_amount"]).groupby(web["order_id"]).sum()
    assert amount[fraud["large_amount"]["order_ids"]].min() > 10 * amount.median()


def test_churn_truth(run: tuple[Path, dict]) -> None:
    _, manifest = run
    keys = {p["person_id"]: p for p in manifest["truth"]["person_keys"]}
    churned = manifest["truth"]["churned"]
    assert manifest["truth"]["persons"] == len(keys) and 0 < len(churned) < len(keys)
    assert all(keys[c]["dropout_date"] for c in churned)
    assert 0.05 < len(churned) / len(keys) < 0.6


def test_returns_follow_their_order_lines(run: tuple[Path, dict]) -> None:
    root, _ = run
    ret = source_rows(root, "returns")
    ret = ret[ret["return_id"].ne("") & pd.to_numeric(ret["quantity"], errors="coerce").ge(1)]
    ret = ret[pd.to_numeric(ret["refund_amount"], errors="coerce").ge(0)]
    web = valid_orders(root, "web_orders").set_index(["order_id", "line_no"])
    checked = 0
    for row in ret[ret["channel"] == "web"].itertuples():
        if (row.order_id, row.line_no) not in web.index:
            continue
        line = web.loc[(row.order_id, row.line_no)]
        assert epoch(row.return_ts) > line["_epoch"]
        assert float(row.refund_amount) <= line["_units"] * line["_amount"] + 1e-9
        checked += 1
    assert checked >= 1


def test_campaign_codes_exist_in_marketing_spend(run: tuple[Path, dict]) -> None:
    root, _ = run
    campaigns = set(source_rows(root, "marketing_spend")["campaign_id"])
    codes = set(source_rows(root, "web_events")["campaign_code"].dropna())
    codes |= set(valid_orders(root, "web_orders")["campaign_code"]) - {""}
    assert codes and codes <= campaigns
