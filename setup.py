"""omnilake: the open omni-channel commerce lakehouse."""

from setuptools import find_packages, setup

setup(
    name="omnilake",
    version="0.1.0",
    description="Omni-channel commerce lakehouse: Spark + Delta + Airflow + MLflow",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["jobs", "jobs.*", "ml", "ml.*"]),
    package_data={"": ["*.yaml"]},
    entry_points={"console_scripts": ["omnilake = jobs.cli:run"]},
)
