"""gold.price_response (per category) and gold.markdowns (per store x SKU): how units answer price, and the
discount that clears a slow mover's excess stock.

Price response, as of a date, from the sales lines of the trailing `lookback_days`:
- A SKU's price on a sale day is the median unit price of its lines (the list price: discounts are a separate
  column). Its promotion days are those where most of its lines are discounted by at least `promo_min_discount`
  of their gross; they are left out of the price series and of the units compared below.
- A list price change is a sale day whose price differs from the SKU's previous non-promotion sale day's by at least
  `min_step`. It is used when no other change of that SKU is within `window_days` either side, its whole before
  window is in the lookback and at least `min_after_days` of its after window have passed.
- Each change compares the SKU's units per non-promotion day in the `window_days` before and after (after: up to the
  as-of) with the rest of its category's in the same windows (control: season, weekdays, traffic):
  e = (ln(r_after / r_before) - ln(c_after / c_before)) / ln(p_after / p_before), with variance
  (1/lines of each of the four windows) / ln(p_after / p_before)^2 (Poisson in order lines: units are overdispersed).
  Changes need `min_lines` lines of the SKU on each side.
- A category's elasticity is the inverse-variance mean of its changes' e, its standard error the larger of the
  pooled one and the one the changes' spread implies; with fewer than `min_changes` changes it is null (status
  `too_few_price_changes`).
- Promotions are a separate term (a promotion moves units by more than its discount: display, messaging): per
  category, promotion SKU-days, their mean discount, and the lift = promotion units / the same SKUs' non-promotion
  units per day x promotion days.

Markdowns, as of a date, per SKU (a list price is the chain's): over the stores holding its stock, stock on hand and
daily units sold (over conf gold.inventory.demand_window_days, stock-out days left out: the history, not the
forecast's median, which is 0 for a SKU that sells now and then) summed; a SKU with stock and no demand or at least
`min_days_of_cover` days of cover is a slow mover. With daily demand q, clearance days T and elasticity e, the
discount d that sells the stock H in T days solves (1 - d)^e x q x T = H: d = 1 - (H / (q T))^(1/e), rounded up to
`step` and capped at `max_markdown` (no demand: the cap). e is the category's estimate when it has one at or below
-`min_elasticity`, else `default_elasticity` (elasticity_source says which). The `max_skus` slowest (no demand
first, then by days of cover, then by the excess stock's value at cost) are kept: a list to act on, not the
catalog's long tail.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.common.config.gold import MarkdownRules, PriceResponseRules
from jobs.gold.returns import UNKNOWN

ESTIMATED, TOO_FEW = "estimated", "too_few_price_changes"
CATEGORY, DEFAULT = "category", "default"


def sku_days(
    lines: DataFrame, products: DataFrame, *, start: date, until: date, rules: PriceResponseRules
) -> DataFrame:
    """Per SKU x sale date in [start, until]: category, units, lines, price (median unit price), promo (most lines
    discounted by at least promo_min_discount) and discount (the promotion lines' mean discount share)."""
    sold = lines.where(
        F.col("order_date").between(F.lit(start), F.lit(until)) & (F.col("quantity") > 0) & (F.col("unit_price") > 0)
    )
    share = F.col("discount") / (F.col("unit_price") * F.col("quantity"))
    is_promo = F.coalesce(share >= F.lit(rules.promo_min_discount), F.lit(False))
    day = sold.groupBy("sku", "order_date").agg(
        F.sum(F.col("quantity").cast("long")).alias("units"),
        F.count(F.lit(1)).alias("lines"),
        F.percentile_approx(F.col("unit_price").cast("double"), 0.5).alias("price"),
        F.sum(F.when(is_promo, 1).otherwise(0)).alias("promo_lines"),
        F.avg(F.when(is_promo, share.cast("double"))).alias("discount"),
    )
    cats = products.select("sku", "category").dropDuplicates(["sku"])
    return day.join(cats, on="sku", how="left").select(
        "sku",
        F.coalesce(F.col("category"), F.lit(UNKNOWN)).alias("category"),
        "order_date",
        "units",
        "lines",
        "price",
        (F.col("promo_lines") * 2 > F.col("lines")).alias("promo"),
        "discount",
    )


def price_changes(days: DataFrame, *, start: date, until: date, rules: PriceResponseRules) -> DataFrame:
    """The usable list price changes among `days` (sku_days): sku, category, change_date, p_before, p_after, after_end
    (the last day of the after window)."""
    regular = days.where(~F.col("promo"))
    by_sku = Window.partitionBy("sku").orderBy("order_date")
    prev = F.lag("price").over(by_sku)
    step = F.abs(F.log(F.col("price") / F.col("p_before")))
    changed = (
        regular.select("sku", "category", "order_date", "price", prev.alias("p_before"))
        .where(F.col("p_before").isNotNull() & (step >= F.lit(math.log1p(rules.min_step))))
        .select(
            "sku", "category", F.col("order_date").alias("change_date"), "p_before", F.col("price").alias("p_after")
        )
    )
    w = rules.window_days
    by_change = Window.partitionBy("sku").orderBy("change_date")
    gap_before = F.datediff("change_date", F.lag("change_date").over(by_change))
    gap_after = F.datediff(F.lead("change_date").over(by_change), "change_date")
    after_end = F.least(F.date_add("change_date", w - 1), F.lit(until))
    return (
        changed.select("*", gap_before.alias("gap_before"), gap_after.alias("gap_after"), after_end.alias("after_end"))
        .where(F.coalesce(F.col("gap_before") >= w, F.lit(True)) & F.coalesce(F.col("gap_after") >= w, F.lit(True)))
        .where(F.date_sub("change_date", w) >= F.lit(start))
        .where(F.datediff("after_end", "change_date") + 1 >= rules.min_after_days)
        .drop("gap_before", "gap_after")
    )


def _windows(changes: DataFrame, days: DataFrame, w: int) -> DataFrame:
    """Per change: units and lines of its SKU's regular days and its promotion days, and units and lines of the rest
    of its category's regular days (ctrl_), in its before window [change - w, change - 1] and after window [change,
    after_end]. One join on the category (a SKU's days are among its category's)."""
    joined = changes.alias("c").join(
        days.alias("d"),
        (F.col("c.category") == F.col("d.category"))
        & F.col("d.order_date").between(F.date_sub(F.col("c.change_date"), w), F.col("c.after_end")),
    )
    before = F.col("d.order_date") < F.col("c.change_date")
    own = F.col("d.sku") == F.col("c.sku")
    regular = ~F.col("d.promo")

    def total(cond: Column, what: str) -> Column:
        return F.sum(F.when(cond, F.col(f"d.{what}")).otherwise(0))

    sides = []
    for flag, name in ((before, "before"), (~before, "after")):
        sides += [
            total(flag & own & regular, "units").alias(f"{name}_units"),
            total(flag & own & regular, "lines").alias(f"{name}_lines"),
            F.sum(F.when(flag & own & F.col("d.promo"), 1).otherwise(0)).alias(f"{name}_promo_days"),
            total(flag & ~own & regular, "units").alias(f"ctrl_{name}_units"),
            total(flag & ~own & regular, "lines").alias(f"ctrl_{name}_lines"),
        ]
    keys = [F.col(f"c.{k}").alias(k) for k in ("sku", "category", "change_date", "p_before", "p_after", "after_end")]
    return joined.groupBy(*keys).agg(*sides)


def change_effects(days: DataFrame, changes: DataFrame, *, rules: PriceResponseRules) -> DataFrame:
    """Per usable change (price_changes) with min_lines lines on each side: its elasticity e and variance."""
    w = rules.window_days
    x = _windows(changes, days, w)
    days_before = F.lit(w) - F.col("before_promo_days")
    days_after = F.datediff("after_end", "change_date") + 1 - F.col("after_promo_days")
    window_days = F.datediff("after_end", "change_date") + 1
    ctrl = {s: (F.col(f"ctrl_{s}_units"), F.col(f"ctrl_{s}_lines")) for s in ("before", "after")}
    log_p = F.log(F.col("p_after") / F.col("p_before"))
    response = F.log((F.col("after_units") / days_after) / (F.col("before_units") / days_before))
    control = F.log((ctrl["after"][0] / window_days) / (ctrl["before"][0] / F.lit(w)))
    noise = (
        F.lit(1.0) / F.col("before_lines")
        + F.lit(1.0) / F.col("after_lines")
        + F.lit(1.0) / ctrl["before"][1]
        + F.lit(1.0) / ctrl["after"][1]
    )
    usable = (
        (F.col("before_lines") >= rules.min_lines)
        & (F.col("after_lines") >= rules.min_lines)
        & (ctrl["before"][1] > 0)
        & (ctrl["after"][1] > 0)
    )
    return x.where(usable).select(
        "sku",
        "category",
        "change_date",
        "p_before",
        "p_after",
        ((response - control) / log_p).alias("e"),
        (noise / (log_p * log_p)).alias("var"),
    )


def _promotions(days: DataFrame) -> DataFrame:
    """Per category: promo_sku_days, promo_discount (mean over those days) and promo_lift (promotion units / the
    promoted SKUs' non-promotion units per day x their promotion days)."""
    per_sku = days.groupBy("sku", "category").agg(
        F.sum(F.when(F.col("promo"), 1).otherwise(0)).alias("promo_days"),
        F.sum(F.when(F.col("promo"), F.col("units")).otherwise(0)).alias("promo_units"),
        F.avg(F.when(F.col("promo"), F.col("discount"))).alias("discount"),
        F.sum(F.when(~F.col("promo"), F.col("units")).otherwise(0)).alias("regular_units"),
        F.datediff(F.max("order_date"), F.min("order_date")).alias("span"),
    )
    promoted = per_sku.where((F.col("promo_days") > 0) & (F.col("regular_units") > 0))
    # the base rate over the SKU's selling span (days without sales count as 0), promotion days left out: at least
    # one day, the regular sale day of its regular units
    base_days = F.col("span") + 1 - F.col("promo_days")
    expected = F.col("regular_units") / base_days * F.col("promo_days")
    return promoted.groupBy("category").agg(
        F.sum("promo_days").alias("promo_sku_days"),
        F.round(F.sum(F.col("discount") * F.col("promo_days")) / F.sum("promo_days"), 4).alias("promo_discount"),
        F.round(F.sum("promo_units") / F.sum(expected), 4).alias("promo_lift"),
    )


def price_response(lines: DataFrame, products: DataFrame, *, as_of: date, rules: PriceResponseRules) -> DataFrame:
    """gold.price_response as of `as_of`: one row per category of silver.products (and of the lines)."""
    start = as_of - timedelta(days=rules.lookback_days - 1)
    days = sku_days(lines, products, start=start, until=as_of, rules=rules)
    effects = change_effects(days, price_changes(days, start=start, until=as_of, rules=rules), rules=rules)
    weight = F.lit(1.0) / F.col("var")
    pooled = effects.groupBy("category").agg(
        F.count(F.lit(1)).alias("price_changes"),
        (F.sum(weight * F.col("e")) / F.sum(weight)).alias("elasticity"),
        F.sum(weight).alias("w"),
        F.collect_list(F.struct(F.col("e"), weight.alias("wi"))).alias("each"),
    )
    # spread: sum w (e - mean)^2 / ((n - 1) sum w), the variance of the mean the changes' dispersion implies
    spread = F.try_divide(
        F.aggregate("each", F.lit(0.0), lambda acc, r: acc + r["wi"] * (r["e"] - F.col("elasticity")) ** 2),
        (F.col("price_changes") - 1) * F.col("w"),
    )
    se = F.sqrt(F.greatest(F.lit(1.0) / F.col("w"), F.coalesce(spread, F.lit(0.0))))
    enough = F.col("price_changes") >= rules.min_changes
    categories = (
        products.select(F.coalesce("category", F.lit(UNKNOWN)).alias("category"))
        .unionByName(days.select("category"))
        .distinct()
    )
    return (
        categories.join(pooled, "category", "left")
        .join(_promotions(days), "category", "left")
        .select(
            F.lit(as_of).alias("as_of"),
            "category",
            F.coalesce(F.col("price_changes"), F.lit(0)).cast("long").alias("price_changes"),
            F.when(enough, F.round("elasticity", 4)).alias("elasticity"),
            F.when(enough, F.round(se, 4)).alias("elasticity_se"),
            F.when(enough, F.lit(ESTIMATED)).otherwise(F.lit(TOO_FEW)).alias("status"),
            F.coalesce(F.col("promo_sku_days"), F.lit(0)).cast("long").alias("promo_sku_days"),
            "promo_discount",
            "promo_lift",
        )
    )


def markdowns(
    stock: DataFrame, response: DataFrame, products: DataFrame, *, as_of: date, rules: MarkdownRules
) -> DataFrame:
    """gold.markdowns as of `as_of` from the store x SKU `stock` of that day (jobs.gold.inventory.stock_at: on_hand,
    demand_mean) and its gold.price_response rows: per SKU (a list price is the chain's), its stores with stock
    summed."""
    chain = (
        stock.where(F.col("on_hand") > 0)
        .groupBy("sku")
        .agg(
            F.count(F.lit(1)).alias("stores"),
            F.sum("on_hand").cast("long").alias("on_hand"),
            F.sum(F.coalesce(F.col("demand_mean"), F.lit(0.0))).alias("rate"),
        )
        .withColumn("cover", F.when(F.col("rate") > 0, F.try_divide(F.col("on_hand"), F.col("rate"))))
    )
    slow = chain.where(F.col("cover").isNull() | (F.col("cover") >= rules.min_days_of_cover))
    catalog = products.select(
        "sku",
        F.coalesce("category", F.lit(UNKNOWN)).alias("category"),
        F.coalesce(F.col("unit_cost").cast("double"), F.lit(0.0)).alias("unit_cost"),
    ).dropDuplicates(["sku"])
    usable = response.where((F.col("status") == ESTIMATED) & (F.col("elasticity") <= -rules.min_elasticity)).select(
        "category", F.col("elasticity").alias("estimate")
    )
    x = slow.join(catalog, "sku", "left").fillna({"category": UNKNOWN, "unit_cost": 0.0})
    x = x.join(F.broadcast(usable), "category", "left")
    e = F.coalesce(F.col("estimate"), F.lit(rules.default_elasticity))
    rate = F.col("rate")
    need = F.try_divide(F.col("on_hand"), rate * rules.clearance_days)  # > 1: more stock than the clearance days sell
    raw = F.when(rate > 0, F.greatest(F.lit(0.0), 1 - F.pow(need, 1 / e)))
    stepped = F.ceil(F.round(raw / rules.step, 6)) * rules.step
    d = F.round(F.least(F.coalesce(stepped, F.lit(rules.max_markdown)), F.lit(rules.max_markdown)), 4)
    days_to_clear = F.when(rate > 0, F.try_divide(F.col("on_hand"), rate * F.pow(1 - d, e)))
    excess = F.round((F.col("on_hand") - rate * rules.clearance_days) * F.col("unit_cost"), 2)
    ranked = x.select(
        "*",
        excess.alias("excess_value"),
        F.row_number()
        .over(Window.orderBy(F.col("cover").desc_nulls_first(), excess.desc(), F.col("sku")))
        .alias("rank"),
    ).where(F.col("rank") <= rules.max_skus)
    return ranked.select(
        F.lit(as_of).alias("as_of"),
        "rank",
        "sku",
        "category",
        "stores",
        "on_hand",
        F.round(rate, 4).alias("demand_mean"),
        F.round("cover", 1).alias("days_of_cover"),
        "excess_value",
        F.round(e, 4).alias("elasticity"),
        F.when(F.col("estimate").isNotNull(), F.lit(CATEGORY)).otherwise(F.lit(DEFAULT)).alias("elasticity_source"),
        d.alias("markdown"),
        F.round(days_to_clear, 1).alias("expected_days_to_clear"),
        F.coalesce(days_to_clear <= rules.clearance_days, F.lit(False)).alias("clears"),
    )
