"""Settings from the config file and the environment; command-line flags override both.

File: ``$TWTOP_CONFIG``, else ``$XDG_CONFIG_HOME/twtop/config.toml``. Keys: interval, netns,
filter, group, lang, top, no_mouse, state_dir, cpu_budget. Environment: TWTOP_INTERVAL,
TWTOP_NETNS, TWTOP_FILTER, TWTOP_GROUP, TWTOP_LANG, TWTOP_TOP, TWTOP_STATE_DIR, TWTOP_CPU_BUDGET.
"""

from __future__ import annotations

import os
import tomllib
from typing import Any

from twtop.errors import UsageError

KEYS: dict[str, type] = {
    "interval": float,
    "netns": str,
    "filter": str,
    "group": str,
    "lang": str,
    "top": int,
    "no_mouse": bool,
    "state_dir": str,
    "cpu_budget": float,
}


def config_path() -> str:
    """Where the config file is looked for."""
    explicit = os.environ.get("TWTOP_CONFIG")
    if explicit:
        return explicit
    import platformdirs

    return os.path.join(platformdirs.user_config_dir("twtop"), "config.toml")


def load() -> dict[str, Any]:
    """Settings from the file, then the environment (later wins)."""
    out: dict[str, Any] = {}
    path = config_path()
    if os.path.exists(path):
        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"config {path}: {exc}") from None
        for key, value in data.items():
            kind = KEYS.get(key)
            if kind is None:
                raise UsageError(f"config {path}: unknown key '{key}'")
            if kind is float and isinstance(value, int):
                value = float(value)
            if not isinstance(value, kind):
                raise UsageError(f"config {path}: '{key}' must be a {kind.__name__}")
            out[key] = value
    for key, kind in KEYS.items():
        raw = os.environ.get(f"TWTOP_{key.upper()}")
        if raw is None or kind is bool:
            continue
        try:
            out[key] = kind(raw)
        except ValueError:
            raise UsageError(f"TWTOP_{key.upper()}={raw!r} is not a {kind.__name__}") from None
    return out


def default_lang() -> str:
    """``zh`` when LC_ALL / LC_MESSAGES / LANG say Chinese, else ``en``."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"
