"""Demand forecasting: horizon-safe features, a global LightGBM model, baselines, backtest and levels."""
