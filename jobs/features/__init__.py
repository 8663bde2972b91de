"""Point-in-time features: pure transforms over silver and the `run_features` entry point."""
