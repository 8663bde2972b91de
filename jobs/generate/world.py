"""The simulated ground truth: everything the landing files are rendered from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .assortment import CATEGORIES, Assortment, build_assortment
from .baskets import build_orders
from .demand import simulate
from .drift import shift_traffic
from .events import build_events
from .fraud import add_fraud
from .inventory import build_inventory
from .marketing import Campaign, build_campaigns, spend_table
from .orders import finalize
from .params import GenerateParams
from .people import Idents, People, build_people
from .returns import build_returns
from .stores import Stores, build_stores
from .taste import Taste, build_taste
from .util import Calendar


@dataclass
class World:
    """Ground-truth tables of one run (internal ids are integer indices)."""

    params: GenerateParams
    cal: Calendar
    cat: Assortment
    stores: Stores
    people: People
    taste: Taste
    idents: Idents
    dropout: np.ndarray
    campaigns: list[Campaign]
    orders: pd.DataFrame
    lines: pd.DataFrame
    events: dict[int, pd.DataFrame]
    inventory: pd.DataFrame
    returns: pd.DataFrame
    spend: pd.DataFrame
    # planted traffic drift: per order its index among the no-drift world's orders (an extra order k: -1 - k) and
    # their number, so rendering keeps every other order's random values (None: no traffic drift)
    slots: tuple[np.ndarray, int] | None = None


def build_world(params: GenerateParams) -> World:
    """Run the simulation steps in dependency order."""
    cal = Calendar(params.start_date, params.days, params.weekend_uplift, params.yearly_amplitude)
    cat = build_assortment(params, cal)
    stores = build_stores(params, cal, cat)
    campaigns = build_campaigns(params, cal)
    offered = np.bincount(cat.category, minlength=len(CATEGORIES)) > 0  # all, unless fewer SKUs than categories
    people, idents = build_people(params, cal, stores, len(CATEGORIES), offered=offered)
    taste = build_taste(params, people, cat)
    occ = simulate(params, cal, people, stores)
    orders, lines = build_orders(params, cal, people, taste, stores, cat, occ, campaigns)
    orders, lines = add_fraud(params, cal, people, idents, cat, orders, lines, occ.dropout)
    orders, lines = finalize(params.seed, cal, stores, orders, lines)
    events = build_events(params, cal, people, taste, idents, cat, orders, lines, campaigns, occ.dropout)
    returns = build_returns(params, cal, orders, lines)
    planned = orders, lines  # the stores' (s, S) levels: the no-drift sales
    slots = None
    if params.drift_day is not None and params.drift_traffic != 1.0:
        orders, lines, events, returns, slots = shift_traffic(
            params, cal, people, taste, idents, stores, cat, campaigns, occ.dropout, orders, lines, events, returns
        )
    return World(
        params=params,
        cal=cal,
        cat=cat,
        stores=stores,
        people=people,
        taste=taste,
        idents=idents,
        dropout=occ.dropout,
        campaigns=campaigns,
        orders=orders,
        lines=lines,
        events=events,
        inventory=build_inventory(cal, stores, cat, orders, lines, planned=planned),
        returns=returns,
        spend=spend_table(params, cal, campaigns),
        slots=slots,
    )
