"""Recommendations: implicit-feedback ALS with a popularity fallback, filters, evaluation and persistence."""
