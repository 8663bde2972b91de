"""Identity resolution: components, id rules, and the incremental update against the full recompute and a plain
Python model (union-find plus the id rule of jobs/silver/identity.py, applied batch by batch)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterable

import pytest
from pyspark.sql import DataFrame
from pyspark.testing import assertDataFrameEqual

from jobs.common.config import Config
from jobs.silver.identity import (
    NODE,
    assign_customer_ids,
    changed_ids,
    connected_components,
    new_edges,
    resolve_full,
    resolve_incremental,
    small_components,
)

EDGES = "src_type string, src_value string, dst_type string, dst_value string"
MAP = "id_type string, id_value string, customer_id string"
Edge = tuple[str, str, str, str]
Node = tuple[str, str]


@pytest.fixture()
def rounds(cfg: Config) -> int:
    return cfg.ingest.identity_max_rounds


def test_components_link_through_phone_and_member(spark, rounds: int) -> None:
    edges = spark.createDataFrame(
        [
            ("web", "w1", "phone", "p1"),
            ("app", "a1", "phone", "p1"),
            ("app", "a1", "member", "m1"),
            ("member", "m1", "email", "e1"),
            ("web", "w2", "email", "e2"),
            ("marketplace", "k1", "marketplace", "k1"),
        ],
        EDGES,
    )
    got = connected_components(edges, max_rounds=rounds)
    # the component is the smallest 'type|value' key of its nodes
    expected = [
        *[
            (t, v, "app|a1")
            for t, v in [("web", "w1"), ("phone", "p1"), ("app", "a1"), ("member", "m1"), ("email", "e1")]
        ],
        ("web", "w2", "email|e2"),
        ("email", "e2", "email|e2"),
        ("marketplace", "k1", "marketplace|k1"),
    ]
    assertDataFrameEqual(got, spark.createDataFrame(expected, "id_type string, id_value string, component string"))


def test_ids_are_stable_and_imported_ids_win(spark, rounds: int) -> None:
    edges = spark.createDataFrame(
        [
            ("web", "w1", "phone", "p1"),
            ("app", "a1", "phone", "p1"),  # known customer K1 + new app user
            ("imported:shop", "X9", "email", "e9"),
            ("web", "w9", "email", "e9"),  # imported id with a web account
            ("web", "w5", "web", "w5"),  # brand new
        ],
        EDGES,
    )
    existing = spark.createDataFrame([("web", "w1", "K1"), ("phone", "p1", "K1"), ("web", "w9", "K7")], MAP)
    got = assign_customer_ids(connected_components(edges, max_rounds=rounds), existing=existing)
    ids = {(r.id_type, r.id_value): r.customer_id for r in got.collect()}
    assert ids[("app", "a1")] == "K1" and ids[("web", "w1")] == "K1"
    assert ids[("web", "w9")] == "X9" and ids[("imported:shop", "X9")] == "X9"
    assert ids[("web", "w5")] == "C" + hashlib.sha256(b"web|w5").hexdigest()[:12]
    again = assign_customer_ids(connected_components(edges, max_rounds=rounds), existing=got)
    assertDataFrameEqual(again, got)
    assertDataFrameEqual(changed_ids(again, existing=got), spark.createDataFrame([], MAP))


def test_a_long_chain_converges_in_few_rounds_and_the_limit_names_its_key(spark) -> None:
    chain = _chain(1000, seed=3)  # 999 hops (11 rounds); min-label propagation alone needs hundreds of rounds
    edges = spark.createDataFrame(chain, EDGES)
    got = connected_components(edges, max_rounds=16)
    smallest = min(f"{t}|{v}" for t, v in _nodes(chain))
    assertDataFrameEqual(
        got,
        spark.createDataFrame(
            [(t, v, smallest) for t, v in _nodes(chain)], "id_type string, id_value string, component string"
        ),
    )
    with pytest.raises(RuntimeError, match=r"did not converge in 2 rounds \(ingest.identity_max_rounds\)"):
        connected_components(edges, max_rounds=2)


def test_the_driver_path_finds_the_components_of_the_spark_rounds(spark, rounds: int) -> None:
    rng = random.Random(9)
    graph = _random_graph(rng, accounts=120, phones=40, emails=40, imported=6) + _chain(40, seed=2)
    # the component is the smallest 'type|value' key, not the smallest (type, value): 'a b|a' < 'a|z'
    graph += [("a", "z", "a b", "a"), ("a", "z", "a", "z")]
    edges = spark.createDataFrame(graph, EDGES)
    small = small_components(edges, max_edges=len(graph))
    assert small is not None
    assertDataFrameEqual(small, connected_components(edges, max_rounds=rounds))
    assert small_components(edges, max_edges=len(graph) - 1) is None  # larger than the limit: the Spark rounds


@pytest.mark.parametrize("local", [0, 10_000], ids=["spark-rounds", "driver"])
def test_random_graph_in_batches_equals_the_full_recompute_and_union_find(spark, rounds: int, local: int) -> None:
    rng = random.Random(42)
    edges = _random_graph(rng, accounts=180, phones=60, emails=60, imported=8)
    rng.shuffle(edges)
    batches = [edges[i::4] for i in range(4)]
    final = _apply_both(spark, batches, rounds, local=local)
    assert _partition(final) == _union_find_partition(edges)
    assert len(_partition(final)) > 10  # not one giant component: the batches merge and split work


def test_a_chain_of_100_in_shuffled_batches(spark, rounds: int) -> None:
    chain = _chain(100, seed=5)
    random.Random(5).shuffle(chain)
    final = _apply_both(spark, [chain[i : i + 25] for i in range(0, 99, 25)], rounds)
    assert len(set(final.values())) == 1 and set(final) == _nodes(chain)


def test_a_new_link_merges_two_customers_and_the_smallest_known_id_survives(spark, rounds: int) -> None:
    ids = {}
    ann = [("web", "w1", "phone", "p1"), ("app", "a1", "phone", "p1")]
    bob = [("web", "w2", "email", "e2")]
    link = [("app", "a1", "email", "e2")]  # the app account adds Bob's email
    for node_key in ("app|a1", "email|e2"):
        ids[node_key] = "C" + hashlib.sha256(node_key.encode()).hexdigest()[:12]
    survivor, moved = sorted(ids.values())
    edges, id_map = _empty(spark)
    for batch in (ann + bob, link):
        edges, id_map, changed = _apply(spark, batch, edges, id_map, resolve_incremental, rounds)
    assert {r.customer_id for r in id_map.collect()} == {survivor}
    loser = next(k for k, v in ids.items() if v == moved)
    losers = {("web", "w1"), ("phone", "p1"), ("app", "a1")} if loser == "app|a1" else {("web", "w2"), ("email", "e2")}
    # the update's return value: the known nodes whose customer_id moved, and nothing else
    assertDataFrameEqual(changed, spark.createDataFrame([(t, v, survivor) for t, v in losers], MAP))


def test_an_imported_id_wins_over_known_ids(spark, rounds: int) -> None:
    edges, id_map = _empty(spark)
    batches = [
        [("web", "w1", "phone", "p1"), ("app", "a1", "phone", "p1")],
        [("imported:shop", "X9", "phone", "p1"), ("imported:shop", "X9", "imported:shop", "X9")],
    ]
    for batch in batches:
        edges, id_map, _ = _apply(spark, batch, edges, id_map, resolve_incremental, rounds)
    nodes = [("web", "w1"), ("phone", "p1"), ("app", "a1"), ("imported:shop", "X9")]
    assertDataFrameEqual(id_map, spark.createDataFrame([(t, v, "X9") for t, v in nodes], MAP))


@pytest.mark.parametrize("local", [0, 10_000], ids=["spark-rounds", "driver"])
def test_components_sharing_an_imported_id_are_resolved_together(spark, rounds: int, local: int) -> None:
    # two components hold customer X1 (the same id imported from two shops); a new edge touches one of them
    first = [
        ("imported:shop", "X1", "phone", "p1"),
        ("imported:app", "X1", "email", "e2"),
        ("web", "w5", "email", "e2"),
    ]
    final = _apply_both(
        spark, [first, [("web", "w3", "phone", "p1"), ("app", "a4", "email", "e2")]], rounds, local=local
    )
    assert set(final.values()) == {"X1"} and len(final) == 7


def test_untouched_customers_keep_their_rows_and_known_edges_are_not_new(spark, rounds: int) -> None:
    edges, id_map = _empty(spark)
    first = [("web", "w1", "phone", "p1"), ("web", "w2", "email", "e2")]
    edges, id_map, _ = _apply(spark, first, edges, id_map, resolve_incremental, rounds)
    batch = spark.createDataFrame([*first, ("app", "a3", "email", "e2")], EDGES)
    new = new_edges(batch, known=edges)
    assertDataFrameEqual(new, spark.createDataFrame([("app", "a3", "email", "e2")], EDGES))
    changed, existing = resolve_incremental(new, edges=edges, id_map=id_map, max_rounds=rounds)
    w2 = id_map.where("id_value = 'w2'").first().customer_id
    assertDataFrameEqual(existing, spark.createDataFrame([("web", "w2", w2), ("email", "e2", w2)], MAP))
    assertDataFrameEqual(changed, spark.createDataFrame([("app", "a3", w2)], MAP))


# -- helpers: the Spark update applied batch by batch, and the Python model it is checked against --------------


def _empty(spark) -> tuple[DataFrame, DataFrame]:
    return spark.createDataFrame([], EDGES), spark.createDataFrame([], MAP)


def _apply(
    spark, batch: list[Edge], edges: DataFrame, id_map: DataFrame, resolve: Callable, rounds: int, local: int = 0
) -> tuple[DataFrame, DataFrame, DataFrame]:
    """One run: the batch's new edges resolved and merged into the map (as Ingest.update_identities does); `local`:
    the largest graph resolved on the driver (0: the Spark rounds always)."""
    new = new_edges(spark.createDataFrame(batch, EDGES), known=edges).localCheckpoint()
    changed, existing = resolve(new, edges=edges, id_map=id_map, max_rounds=rounds, local_max_edges=local)
    kept = id_map.join(changed.select(*NODE), on=list(NODE), how="left_anti")
    moved = changed.join(existing.select(*NODE), on=list(NODE), how="left_semi")
    return edges.unionByName(new).localCheckpoint(), kept.unionByName(changed).localCheckpoint(), moved


def _apply_both(spark, batches: list[list[Edge]], rounds: int, *, local: int = 0) -> dict[Node, str]:
    """Every batch incrementally and with the full recompute, each from its own previous map; after each batch
    both maps equal the Python model. Returns the final map."""
    inc_edges, inc_map = _empty(spark)
    full_edges, full_map = _empty(spark)
    model: dict[Node, str] = {}
    seen: list[Edge] = []
    for batch in batches:
        inc_edges, inc_map, _ = _apply(spark, batch, inc_edges, inc_map, resolve_incremental, rounds, local)
        full_edges, full_map, _ = _apply(spark, batch, full_edges, full_map, resolve_full, rounds, local)
        seen += batch
        model = _model_step(seen, model)
        expected = spark.createDataFrame([(t, v, c) for (t, v), c in model.items()], MAP)
        assertDataFrameEqual(inc_map, expected)
        assertDataFrameEqual(full_map, expected)
    return model


def _model_step(edges: Iterable[Edge], old: dict[Node, str]) -> dict[Node, str]:
    """The id rule in plain Python: an imported id, else the smallest id the nodes had, else C + sha256(smallest)."""
    groups: dict[Node, list[Node]] = {}
    parent = _union_find(edges)
    for node in parent:
        groups.setdefault(_find(parent, node), []).append(node)
    out = {}
    for nodes in groups.values():
        imported = [v for t, v in nodes if t.startswith("imported:")]
        known = [old[n] for n in nodes if n in old]
        smallest = min(f"{t}|{v}" for t, v in nodes)
        customer = min(imported or known or ["C" + hashlib.sha256(smallest.encode()).hexdigest()[:12]])
        out.update(dict.fromkeys(nodes, customer))
    return out


def _union_find(edges: Iterable[Edge]) -> dict[Node, Node]:
    parent: dict[Node, Node] = {}
    for st, sv, dt, dv in edges:
        a, b = _find(parent, (st, sv)), _find(parent, (dt, dv))
        parent[max(a, b)] = min(a, b)
    return parent


def _find(parent: dict[Node, Node], node: Node) -> Node:
    parent.setdefault(node, node)
    while parent[node] != node:
        parent[node] = parent[parent[node]]
        node = parent[node]
    return node


def _union_find_partition(edges: list[Edge]) -> set[frozenset[Node]]:
    parent = _union_find(edges)
    groups: dict[Node, set[Node]] = {}
    for node in parent:
        groups.setdefault(_find(parent, node), set()).add(node)
    return {frozenset(g) for g in groups.values()}


def _partition(id_map: dict[Node, str]) -> set[frozenset[Node]]:
    groups: dict[str, set[Node]] = {}
    for node, customer in id_map.items():
        groups.setdefault(customer, set()).add(node)
    return {frozenset(g) for g in groups.values()}


def _nodes(edges: Iterable[Edge]) -> set[Node]:
    return {n for st, sv, dt, dv in edges for n in ((st, sv), (dt, dv))}


def _chain(n: int, *, seed: int) -> list[Edge]:
    """A path of n web accounts whose keys are in random order along it (the smallest is somewhere inside)."""
    names = [f"w{i:04d}" for i in range(n)]
    random.Random(seed).shuffle(names)
    return [("web", a, "web", b) for a, b in zip(names, names[1:], strict=False)]


def _random_graph(rng: random.Random, *, accounts: int, phones: int, emails: int, imported: int) -> list[Edge]:
    """Accounts (self edge each) linked to 0-2 shared phones/emails, a few imported ids on some phones."""
    kinds = ("web", "app", "member", "marketplace")
    edges = []
    for i in range(accounts):
        kind = rng.choice(kinds)
        edges.append((kind, f"a{i}", kind, f"a{i}"))
        for _ in range(rng.randint(0, 2)):
            link = (
                ("phone", f"p{rng.randrange(phones)}") if rng.random() < 0.5 else ("email", f"e{rng.randrange(emails)}")
            )
            edges.append((kind, f"a{i}", *link))
    for i in range(imported):
        edges.append((f"imported:shop{i % 2}", f"X{i}", "phone", f"p{rng.randrange(phones)}"))
    return list(dict.fromkeys(edges))
