"""Gold analytics: pure transforms over silver and the `run_gold` entry point."""
