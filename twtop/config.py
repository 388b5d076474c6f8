"""Settings: the config file < the environment < command-line flags, validated once.

File: ``$TWTOP_CONFIG``, else ``$XDG_CONFIG_HOME/twtop/config.toml``. Keys: interval, netns,
filter, group, lang, top, no_mouse, state_dir. Environment: TWTOP_INTERVAL, TWTOP_NETNS,
TWTOP_FILTER, TWTOP_GROUP, TWTOP_LANG, TWTOP_TOP, TWTOP_STATE_DIR.

The file is input like any other: only a regular file up to ``MAX_CONFIG_BYTES`` is read, opened
non-blocking (a FIFO cannot hang twtop, ``/dev/zero`` is not read forever); undecodable UTF-8,
TOML nested deeper than ``MAX_TOML_DEPTH``, a NUL in a string and a boolean where a number
belongs are usage errors (exit 2) with one line, like every other bad value.
"""

from __future__ import annotations

import dataclasses
import math
import os
import stat
import tomllib
from dataclasses import dataclass
from typing import Any

from twtop.errors import UsageError
from twtop.model import GROUPS
from twtop.safe import sanitize

KEYS: dict[str, type] = {
    "interval": float,
    "netns": str,
    "filter": str,
    "group": str,
    "lang": str,
    "top": int,
    "no_mouse": bool,
    "state_dir": str,
}
#: A config file larger than this is refused (a real one is a few hundred bytes).
MAX_CONFIG_BYTES = 1 << 20
#: Tables/arrays nested deeper than this are refused before tomllib recurses into them.
MAX_TOML_DEPTH = 32
LANGS = ("en", "zh")


@dataclass(frozen=True)
class Settings:
    """Everything the CLI, the TUI and the exporter read, typed and validated."""

    interval: float = 1.0
    netns: str | None = None
    filter: str | None = None
    group: str = "ip"
    lang: str = "en"
    top: int = 10
    no_mouse: bool = False
    state_dir: str | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.interval) and 0.1 <= self.interval <= 3600):
            raise UsageError("--interval must be between 0.1 and 3600 seconds")
        if self.top < 1:
            raise UsageError("--top must be at least 1")
        if self.group not in GROUPS:
            raise UsageError(f"group must be one of {', '.join(GROUPS)}")
        if self.lang not in LANGS:
            raise UsageError("lang must be en or zh")
        if self.netns is not None and not self.netns.strip():
            raise UsageError("--netns: empty namespace name (omit it to watch this host's)")
        for key in ("netns", "filter", "state_dir"):
            value = getattr(self, key)
            if value is not None and "\0" in value:
                raise UsageError(f"{key}: contains a NUL character")

    def as_dict(self) -> dict[str, Any]:
        """The settings as the dict the TUI and reports take."""
        return dataclasses.asdict(self)


def config_path() -> str:
    """Where the config file is looked for."""
    explicit = os.environ.get("TWTOP_CONFIG")
    if explicit:
        return explicit
    import platformdirs

    return os.path.join(platformdirs.user_config_dir("twtop"), "config.toml")


def _read_config(path: str) -> bytes | None:
    """The file's bytes; None when it does not exist. Only a bounded regular file is read."""
    shown = sanitize(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in TWTOP_CONFIG
        raise UsageError(f"config {shown}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"config {shown}: not a regular file")
        if st.st_size > MAX_CONFIG_BYTES:
            raise UsageError(f"config {shown}: larger than {MAX_CONFIG_BYTES // 1024} KiB")
        chunks, size = [], 0
        while chunk := os.read(fd, 65536):
            size += len(chunk)
            if size > MAX_CONFIG_BYTES:  # grew while we read it
                raise UsageError(f"config {shown}: larger than {MAX_CONFIG_BYTES // 1024} KiB")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise UsageError(f"config {shown}: {exc.strerror}") from None
    finally:
        os.close(fd)


def _check_depth(text: str, path: str) -> None:
    """Refuse nesting tomllib would recurse into without bound (it is recursive)."""
    depth = deepest = 0
    in_str: str | None = None
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if in_str:
            if ch == "\\" and in_str == '"':
                i += 1
            elif ch == in_str:
                in_str = None
        elif ch in "\"'":
            in_str = ch
        elif ch == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
        i += 1
    if deepest > MAX_TOML_DEPTH:
        raise UsageError(f"config {sanitize(path)}: nested deeper than {MAX_TOML_DEPTH} levels")


def _check_type(key: str, value: Any, kind: type, where: str) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) and kind is not bool:  # bool is an int in Python: not a number
        raise UsageError(f"{where}: '{key}' must be a {kind.__name__}, not a boolean")
    if not isinstance(value, kind):
        raise UsageError(f"{where}: '{key}' must be a {kind.__name__}")
    return value


def load() -> dict[str, Any]:
    """Settings from the file, then the environment (later wins); values type-checked."""
    out: dict[str, Any] = {}
    path = config_path()
    raw = _read_config(path)
    where = f"config {sanitize(path)}"
    if raw is not None:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(f"{where}: not UTF-8 (byte {exc.start})") from None
        _check_depth(text, path)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{where}: {exc}") from None
        except RecursionError:
            raise UsageError(f"{where}: nested too deeply") from None
        for key, value in data.items():
            kind = KEYS.get(key)
            if kind is None:
                raise UsageError(f"{where}: unknown key '{sanitize(key, 60)}'")
            out[key] = _check_type(key, value, kind, where)
    for key, kind in KEYS.items():
        name = f"TWTOP_{key.upper()}"
        env = os.environ.get(name)
        if env is None or kind is bool:
            continue
        try:
            out[key] = kind(env)
        except ValueError:
            raise UsageError(f"{name}={sanitize(env, 60)!r} is not a {kind.__name__}") from None
    return out


def resolve(flags: dict[str, Any]) -> Settings:
    """File < environment < ``flags`` (None values in ``flags`` mean 'not given'), validated."""
    merged = load()
    merged.update({k: v for k, v in flags.items() if v is not None})
    merged.setdefault("lang", default_lang())
    return Settings(**merged)


def default_lang() -> str:
    """``zh`` when LC_ALL / LC_MESSAGES / LANG say Chinese, else ``en``."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"
