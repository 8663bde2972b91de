"""omnilake ML: LTV, churn, demand and recommendation models (ml.models); the shared lifecycle in ml.training,
ml.validation and ml.serving."""
