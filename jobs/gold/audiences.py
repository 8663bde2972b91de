"""gold.marketing_audiences: the customers to act on as of a date, why (the numbers behind it) and what to do.

One row per customer x audience (rules: conf gold.audiences), with `detail` naming what the row is about:
- cart_abandonment: a SKU the customer added to the cart at least `min_carts` times in the `window_days` to as_of
  and did not buy in those days. detail: that SKU (most add-to-carts, then the latest, then the smallest sku).
- browse_without_buy: at least `min_views` views of one category's SKUs in the `window_days` to as_of and nothing of
  that category bought in those days. detail: that category (most views, then the latest, then by name).
- dormant_winback: no purchase for more than `min_recency_days` (gold.rfm_segments' recency); the action of the
  customer's CRM tier. detail: the tier (`none` for non-members, `unknown` for a member without one).
- high_value_at_risk: churn_probability x expected_revenue of the customer's latest gold.churn_scores and
  gold.customer_ltv (conf horizons) on or before as_of above `min_value_at_risk`. detail: the churn risk band.
Every row carries the customer's most active hour (0-23) and weekday in conf `contact.timezone`, over their events
and orders of the `contact.window_days` to as_of (most activities, then the latest, then the earliest hour or
weekday from Monday); null without activity. Customer ids only: the restricted export joins contact details.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.common.config.gold import (
    AudienceRules,
    BrowseWithoutBuyRules,
    CartAbandonmentRules,
    ContactRules,
    DormantWinbackRules,
    HighValueAtRiskRules,
)
from jobs.gold.customers import rfm_measures
from jobs.gold.geography import NO_TIER, UNKNOWN

CART_ABANDONMENT, BROWSE_WITHOUT_BUY = "cart_abandonment", "browse_without_buy"
DORMANT_WINBACK, HIGH_VALUE_AT_RISK = "dormant_winback", "high_value_at_risk"
CART, VIEW = "cart", "view"  # silver.events event_type
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # ISO order
AUDIENCE = ("customer_id", "audience", "detail", "score", "reason", "action")


def _within(col: str, *, as_of: date, days: int) -> Column:
    """`col` (a date) in the `days` days to `as_of`, inclusive."""
    return F.col(col).between(F.lit(as_of - timedelta(days=days - 1)), F.lit(as_of))


def _first(df: DataFrame, *order: Column) -> DataFrame:
    """Each customer's first row by `order` (which ends on a unique column: deterministic)."""
    w = Window.partitionBy("customer_id").orderBy(*order)
    return df.withColumn("_rn", F.row_number().over(w)).where("_rn = 1").drop("_rn")


def _bought(lines: DataFrame, *, as_of: date, days: int) -> DataFrame:
    """The customers' sales lines dated in the `days` to `as_of`."""
    return lines.where(F.col("customer_id").isNotNull() & _within("order_date", as_of=as_of, days=days))


def _left_alone(events: DataFrame, bought: DataFrame, *, kind: str, by: str, at_least: int) -> DataFrame:
    """Per customer, of the values of `by` (sku or category) with at least `at_least` events of `kind` and nothing
    of them bought (`bought`: customer_id, `by`), the first (most events, then the latest, then the smallest value):
    customer_id, `by`, n (its events), last_ts, last_date, others (the customer's other values so left)."""
    counted = (
        events.where(F.col("event_type") == kind)
        .groupBy("customer_id", by)
        .agg(F.count("*").alias("n"), F.max("event_ts").alias("last_ts"), F.max("event_date").alias("last_date"))
        .where(F.col("n") >= at_least)
        .join(bought.select("customer_id", by).distinct(), on=["customer_id", by], how="left_anti")
    )
    items = F.count("*").over(Window.partitionBy("customer_id"))
    top = _first(counted.withColumn("items", items), F.desc("n"), F.desc("last_ts"), F.asc(by))
    return top.withColumn("others", F.col("items") - 1)


def _events(events: DataFrame, *, as_of: date, days: int) -> DataFrame:
    """The customers' events of a SKU dated in the `days` to `as_of`."""
    known = F.col("customer_id").isNotNull() & F.col("sku").isNotNull()
    return events.where(known & _within("event_date", as_of=as_of, days=days))


def _rows(df: DataFrame, audience: str, *, detail: Column, score: Column, reason: Column, action: Column) -> DataFrame:
    """An audience's rows: the AUDIENCE columns of `df`."""
    return df.select(
        "customer_id",
        F.lit(audience).alias("audience"),
        detail.alias("detail"),
        score.cast("double").alias("score"),
        reason.alias("reason"),
        action.alias("action"),
    )


def cart_abandonment(events: DataFrame, lines: DataFrame, *, as_of: date, rules: CartAbandonmentRules) -> DataFrame:
    """Customers who added a SKU to the cart `rules.min_carts`+ times in the `rules.window_days` to `as_of` and did
    not buy it in those days; detail: the SKU (module docstring), score: its add-to-carts. Columns: AUDIENCE."""
    days = rules.window_days
    carts = _events(events, as_of=as_of, days=days)
    top = _left_alone(carts, _bought(lines, as_of=as_of, days=days), kind=CART, by="sku", at_least=rules.min_carts)
    reason = F.format_string(
        f"%d add-to-carts of %s in the {days} days to {as_of.isoformat()} (last on %s), not bought; "
        "%d other item(s) left so",
        F.col("n"),
        F.col("sku"),
        F.col("last_date").cast("string"),
        F.col("others"),
    )
    return _rows(
        top, CART_ABANDONMENT, detail=F.col("sku"), score=F.col("n"), reason=reason, action=F.lit(rules.action)
    )


def browse_without_buy(
    events: DataFrame, lines: DataFrame, products: DataFrame, *, as_of: date, rules: BrowseWithoutBuyRules
) -> DataFrame:
    """Customers with `rules.min_views`+ views of a category's SKUs in the `rules.window_days` to `as_of` and no
    purchase in that category in those days (SKUs the catalog does not know count in none); detail: the category,
    score: its views. Columns: AUDIENCE."""
    days = rules.window_days
    category = products.select("sku", "category").where(F.col("category").isNotNull())
    views = _events(events, as_of=as_of, days=days).join(category, on="sku", how="inner")
    bought = _bought(lines, as_of=as_of, days=days).join(category, on="sku", how="inner")
    top = _left_alone(views, bought, kind=VIEW, by="category", at_least=rules.min_views)
    reason = F.format_string(
        f"%d views of category %s in the {days} days to {as_of.isoformat()} (last on %s), nothing of it bought; "
        "%d other category(ies) so",
        F.col("n"),
        F.col("category"),
        F.col("last_date").cast("string"),
        F.col("others"),
    )
    action = F.lit(rules.action)
    return _rows(top, BROWSE_WITHOUT_BUY, detail=F.col("category"), score=F.col("n"), reason=reason, action=action)


def _tier_action(tier: Column, actions: Mapping[str, str], default: str) -> Column:
    action = F.lit(default)
    for name, text in sorted(actions.items()):
        action = F.when(tier == F.lit(name), F.lit(text)).otherwise(action)
    return action


def dormant_winback(lines: DataFrame, customers: DataFrame, *, as_of: date, rules: DormantWinbackRules) -> DataFrame:
    """Customers whose last purchase is more than `rules.min_recency_days` before `as_of`; detail: their CRM tier,
    action: that tier's, score: the days since the last purchase. Columns: AUDIENCE."""
    dormant = rfm_measures(lines, as_of=as_of).where(F.col("recency_days") > rules.min_recency_days)
    member = F.when(F.col("member_id").isNull(), F.lit(NO_TIER)).otherwise(F.coalesce("tier", F.lit(UNKNOWN)))
    tiers = customers.select("customer_id", member.alias("tier"))
    df = dormant.join(tiers, on="customer_id", how="left").withColumn("tier", F.coalesce("tier", F.lit(NO_TIER)))
    reason = F.format_string(
        "no purchase for %d days (last on %s); %d order(s), %s spent in all; tier %s",
        F.col("recency_days"),
        F.date_sub(F.lit(as_of), F.col("recency_days")).cast("string"),
        F.col("frequency"),
        F.col("monetary").cast("string"),
        F.col("tier"),
    )
    action = _tier_action(F.col("tier"), rules.actions, rules.default_action)
    return _rows(df, DORMANT_WINBACK, detail=F.col("tier"), score=F.col("recency_days"), reason=reason, action=action)


def _latest(scores: DataFrame, *, as_of: date, horizon_days: int, prefix: str, columns: tuple[str, ...]) -> DataFrame:
    """Each customer's row of the newest scores made on or before `as_of` for `horizon_days`: customer_id,
    `<prefix>_as_of` and `columns`."""
    made = scores.where((F.col("as_of") <= F.lit(as_of)) & (F.col("horizon_days") == horizon_days))
    return _first(made, F.desc("as_of")).select("customer_id", F.col("as_of").alias(f"{prefix}_as_of"), *columns)


def high_value_at_risk(churn: DataFrame, ltv: DataFrame, *, as_of: date, rules: HighValueAtRiskRules) -> DataFrame:
    """Customers whose churn_probability x expected_revenue (each of their latest scores on or before `as_of`)
    is above `rules.min_value_at_risk`; detail: the risk band, score: that value at risk. Columns: AUDIENCE. Empty
    before the first scoring (gold.churn_scores and gold.customer_ltv read as empty frames)."""
    p = _latest(
        churn,
        as_of=as_of,
        horizon_days=rules.churn_horizon_days,
        prefix="churn",
        columns=("churn_probability", "risk_band"),
    )
    revenue = _latest(
        ltv, as_of=as_of, horizon_days=rules.ltv_horizon_days, prefix="ltv", columns=("expected_revenue",)
    )
    value = F.col("churn_probability") * F.col("expected_revenue")
    df = p.join(revenue, on="customer_id", how="inner").withColumn("value", value)
    reason = F.format_string(
        f"churn probability %.2f (scored %s) x expected revenue %.2f in {rules.ltv_horizon_days} days (scored %s) "
        "= %.2f at risk",
        F.col("churn_probability"),
        F.col("churn_as_of").cast("string"),
        F.col("expected_revenue"),
        F.col("ltv_as_of").cast("string"),
        F.col("value"),
    )
    at_risk = df.where(F.col("value") > F.lit(rules.min_value_at_risk))
    score = F.round("value", 2)
    return _rows(
        at_risk, HIGH_VALUE_AT_RISK, detail=F.col("risk_band"), score=score, reason=reason, action=F.lit(rules.action)
    )


def _mode(activity: DataFrame, value: Column, name: str) -> DataFrame:
    """customer_id and `name`: the `value` of most activities, then of the latest, then the smallest."""
    counted = activity.groupBy("customer_id", value.alias(name)).agg(
        F.count("*").alias("_n"), F.max("ts").alias("_last")
    )
    return _first(counted, F.desc("_n"), F.desc("_last"), F.asc(name)).select("customer_id", name)


def contact_times(events: DataFrame, lines: DataFrame, *, as_of: date, rules: ContactRules) -> DataFrame:
    """Per customer with an event or an order dated in the `rules.window_days` to `as_of`: contact_hour (int 0-23)
    and contact_weekday (Monday ... Sunday), the modes of those activities' times in `rules.timezone` (one per event,
    one per order)."""
    days = rules.window_days
    seen = events.where(F.col("customer_id").isNotNull() & _within("event_date", as_of=as_of, days=days))
    orders = (
        lines.where(F.col("customer_id").isNotNull() & _within("order_date", as_of=as_of, days=days))
        .select("customer_id", "channel", "order_id", "order_ts")
        .distinct()
    )
    activity = (
        seen.select("customer_id", F.col("event_ts").alias("ts"))
        .unionByName(orders.select("customer_id", F.col("order_ts").alias("ts")))
        .where(F.col("ts").isNotNull())
        .withColumn("_local", F.from_utc_timestamp("ts", rules.timezone))
    )
    iso_day = (F.dayofweek("_local") + 5) % 7 + 1  # dayofweek: 1 = Sunday; ISO: 1 = Monday
    hours = _mode(activity, F.hour("_local"), "contact_hour")
    weekdays = _mode(activity, iso_day, "_iso_day")
    names = F.array(*[F.lit(d) for d in WEEKDAYS])
    return hours.join(weekdays, on="customer_id", how="inner").select(
        "customer_id", "contact_hour", F.element_at(names, F.col("_iso_day")).alias("contact_weekday")
    )


def marketing_audiences(
    events: DataFrame,
    lines: DataFrame,
    products: DataFrame,
    customers: DataFrame,
    churn: DataFrame,
    ltv: DataFrame,
    *,
    as_of: date,
    rules: AudienceRules,
) -> DataFrame:
    """The snapshot as of `as_of` from silver.events, the sales lines, silver.products, silver.customers and the
    serving tables gold.churn_scores and gold.customer_ltv (module docstring). Columns: as_of, customer_id, audience,
    detail, score (double), reason, action, contact_hour (int), contact_weekday."""
    rows = (
        cart_abandonment(events, lines, as_of=as_of, rules=rules.cart_abandonment)
        .unionByName(browse_without_buy(events, lines, products, as_of=as_of, rules=rules.browse_without_buy))
        .unionByName(dormant_winback(lines, customers, as_of=as_of, rules=rules.dormant_winback))
        .unionByName(high_value_at_risk(churn, ltv, as_of=as_of, rules=rules.high_value_at_risk))
    )
    times = contact_times(events, lines, as_of=as_of, rules=rules.contact)
    return rows.join(times, on="customer_id", how="left").select(
        F.lit(as_of).alias("as_of"),
        *AUDIENCE,
        F.col("contact_hour").cast("int").alias("contact_hour"),
        "contact_weekday",
    )
