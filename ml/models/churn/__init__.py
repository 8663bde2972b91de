"""Churn: calibrated LightGBM with per-customer reasons; the BG/NBD's P(no purchase) as baseline and fallback."""
