"""omnilake Spark jobs: common, generate, bronze, silver, gold, features and the omnilake command."""
