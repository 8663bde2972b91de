from __future__ import annotations

from pyspark.testing import assertDataFrameEqual

from jobs.silver.identity import assign_customer_ids, changed_ids, connected_components

EDGES = "src_type string, src_value string, dst_type string, dst_value string"
MAP = "id_type string, id_value string, customer_id string"


def test_components_link_through_phone_and_member(spark) -> None:
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
    comp = connected_components(edges)
    groups = {
        frozenset(r.nodes)
        for r in comp.groupBy("component")
        .agg({"id_value": "collect_set"})
        .withColumnRenamed("collect_set(id_value)", "nodes")
        .collect()
    }
    assert groups == {frozenset({"w1", "p1", "a1", "m1", "e1"}), frozenset({"w2", "e2"}), frozenset({"k1"})}


def test_ids_are_stable_and_imported_ids_win(spark) -> None:
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
    got = assign_customer_ids(connected_components(edges), existing=existing)
    ids = {(r.id_type, r.id_value): r.customer_id for r in got.collect()}
    assert ids[("app", "a1")] == "K1" and ids[("web", "w1")] == "K1"
    assert ids[("web", "w9")] == "X9" and ids[("imported:shop", "X9")] == "X9"
    assert ids[("web", "w5")].startswith("C") and len(ids[("web", "w5")]) == 13
    again = assign_customer_ids(connected_components(edges), existing=got)
    assertDataFrameEqual(again, got)
    assertDataFrameEqual(changed_ids(again, existing=got), spark.createDataFrame([], MAP))
