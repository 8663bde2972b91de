"""Identity resolution: link source accounts across channels through shared identifiers (member id,
normalised phone or email tokens) into one stable customer_id.

The identifier graph (silver.identity_edges) only grows. Components are found by min-label propagation with
Spark joins. A component keeps the customer_id its members already had (the smallest, if a new link joins
two known customers); a component holding an imported id takes that id (imported ids are kept); a new
component gets `C` + a hash of its smallest node, so ids do not depend on run order.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

EDGE_COLUMNS = ("src_type", "src_value", "dst_type", "dst_value")
IMPORTED_PREFIX = "imported:"


def account_edges(df: DataFrame, *, id_type: str | F.Column, id_col: str, links: dict[str, str]) -> DataFrame:
    """Edges from each row's account node to its identifiers (`links`: column -> id_type); an account
    with no identifier still gets a self edge so it becomes a customer. `id_type` may be a column
    (imported orders: 'imported:<channel>')."""
    node = F.col(id_col)
    kind = F.lit(id_type) if isinstance(id_type, str) else id_type
    parts = [
        df.select(kind.alias("src_type"), node.alias("src_value"), kind.alias("dst_type"), node.alias("dst_value"))
    ]
    for column, link_type in links.items():
        parts.append(
            df.where(F.col(column).isNotNull()).select(
                kind.alias("src_type"),
                node.alias("src_value"),
                F.lit(link_type).alias("dst_type"),
                F.col(column).cast("string").alias("dst_value"),
            )
        )
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out.where(F.col("src_value").isNotNull()).distinct()


def _node(kind: str, value: str) -> F.Column:
    return F.concat_ws("|", F.col(kind), F.col(value))


def connected_components(edges: DataFrame, *, max_iterations: int = 30) -> DataFrame:
    """(id_type, id_value, component) with component = the smallest node key reachable."""
    pairs = edges.select(_node("src_type", "src_value").alias("a"), _node("dst_type", "dst_value").alias("b"))
    both = pairs.unionByName(pairs.select(F.col("b").alias("a"), F.col("a").alias("b"))).distinct()
    both = both.localCheckpoint()
    labels = both.select(F.col("a").alias("node")).distinct().withColumn("label", F.col("node")).localCheckpoint()
    for _ in range(max_iterations):
        proposed = (
            both.join(labels.withColumnRenamed("node", "b"), on="b", how="inner")
            .groupBy(F.col("a").alias("node"))
            .agg(F.min("label").alias("candidate"))
        )
        updated = (
            labels.join(proposed, on="node", how="left")
            .select("node", F.least("label", F.coalesce("candidate", "label")).alias("label"))
            .localCheckpoint()
        )
        changed = (
            updated.join(labels.withColumnRenamed("label", "old"), on="node", how="inner")
            .where(F.col("label") != F.col("old"))
            .limit(1)
            .count()
        )
        labels = updated
        if changed == 0:
            break
    else:
        raise RuntimeError(f"identity resolution did not converge in {max_iterations} iterations")
    split = F.split(F.col("node"), r"\|", 2)
    return labels.select(split[0].alias("id_type"), split[1].alias("id_value"), F.col("label").alias("component"))


def assign_customer_ids(components: DataFrame, *, existing: DataFrame) -> DataFrame:
    """identity_map rows (id_type, id_value, customer_id): keep known ids, imported ids win, else new id."""
    known = components.join(existing, on=["id_type", "id_value"], how="left")
    imported = F.when(F.col("id_type").startswith(IMPORTED_PREFIX), F.col("id_value"))
    per_component = known.groupBy("component").agg(
        F.min(imported).alias("_imported"),
        F.min("customer_id").alias("_known"),
    )
    new_id = F.concat(F.lit("C"), F.substring(F.sha2(F.col("component"), 256), 1, 12))
    chosen = per_component.select("component", F.coalesce("_imported", "_known", new_id).alias("customer_id"))
    return components.join(chosen, on="component", how="inner").select("id_type", "id_value", "customer_id")


def changed_ids(new_map: DataFrame, *, existing: DataFrame) -> DataFrame:
    """Map rows that are new or whose customer_id changed (a merge of two customers)."""
    old = existing.withColumnRenamed("customer_id", "_old")
    return (
        new_map.join(old, on=["id_type", "id_value"], how="left")
        .where(F.col("_old").isNull() | (F.col("_old") != F.col("customer_id")))
        .select("id_type", "id_value", "customer_id")
    )
