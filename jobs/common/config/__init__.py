"""One configuration loader: conf/base.yaml (every section), conf/<OMNILAKE_ENV>.yaml over it, then
OMNILAKE__SECTION__KEY environment overrides, validated into frozen typed sections (`cfg.spark`, `cfg.gold`,
`cfg.features`, `cfg.ml`, `cfg.orchestration`, ...). Section classes live in the submodules by layer.

No Spark or pandas here: DAG files load this at parse time.
"""

from __future__ import annotations

from jobs.common.config.base import ConfigError
from jobs.common.config.loader import ENV_PREFIX, PROJECT_ROOT, Config, build_config, deep_merge, load_config

__all__ = ["ENV_PREFIX", "PROJECT_ROOT", "Config", "ConfigError", "build_config", "deep_merge", "load_config"]
