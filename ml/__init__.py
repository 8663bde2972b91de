"""omnilake ML: LTV, churn, demand and recommendation models; shared train/score wrappers in ml.common."""
