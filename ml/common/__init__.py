"""Shared ML machinery: settings, frames, the bounded pandas hand-off, gate, MLflow registry, train/score wrappers."""
