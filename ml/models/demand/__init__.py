"""Demand forecasting: origin-anchored features, a global LightGBM model, baselines (the per-series ETS loop
included), backtest and levels."""
