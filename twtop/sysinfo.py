"""Sysctls and kernel counters, read from the calling thread's network namespace.

/proc/sys/net is resolved against the opener's namespace; /proc/net is a link to /proc/self/net (the
thread-group leader's namespace), so counters are read from /proc/thread-self/net, which follows the
calling thread after setns().
"""

from __future__ import annotations

import os
from collections.abc import Callable

from twtop import netns as netns_mod
from twtop.errors import UnavailableError

PROC_NET = "/proc/thread-self/net"
#: The initial network namespace as seen from here (PID 1's), where global sysctls live.
INITIAL_NETNS = "/proc/1/ns/net"


def _open_home_netns() -> int | None:
    """The namespace twtop started in, kept open: a poll may enter another one later."""
    try:
        return os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


_HOME_NETNS_FD = _open_home_netns()

#: The sysctls twtop shows, by name; absent ones (e.g. tcp_tw_recycle, removed in 4.12) read as
#: None.
SYSCTLS = (
    "net.ipv4.tcp_tw_reuse",
    "net.ipv4.tcp_tw_reuse_delay",
    "net.ipv4.tcp_tw_recycle",
    "net.ipv4.tcp_timestamps",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_max_tw_buckets",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_max_orphans",
    "net.core.somaxconn",
    "net.ipv4.tcp_max_syn_backlog",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.tcp_rfc1337",
)
#: Sysctls that are global, not per network namespace: absent in a child namespace, so they are
#: read in the initial one (kernel-facts 5) and reported as global.
GLOBAL_SYSCTLS = frozenset({"tcp_max_orphans"})

#: Counters twtop keeps, as (file, section, name).
COUNTERS = (
    ("netstat", "TcpExt", "TW"),
    ("netstat", "TcpExt", "TWKilled"),
    ("netstat", "TcpExt", "TWRecycled"),
    ("netstat", "TcpExt", "TCPTimeWaitOverflow"),
    ("netstat", "TcpExt", "TCPAbortOnClose"),
    ("netstat", "TcpExt", "TCPAbortOnData"),
    ("netstat", "TcpExt", "TCPAbortOnLinger"),
    ("netstat", "TcpExt", "TCPAbortOnMemory"),
    ("netstat", "TcpExt", "ListenOverflows"),
    ("netstat", "TcpExt", "ListenDrops"),
    ("netstat", "TcpExt", "SyncookiesSent"),
    ("netstat", "TcpExt", "TCPReqQFullDoCookies"),
    ("snmp", "Tcp", "ActiveOpens"),
    ("snmp", "Tcp", "PassiveOpens"),
    ("snmp", "Tcp", "CurrEstab"),
    ("snmp", "Tcp", "EstabResets"),
    ("snmp", "Tcp", "AttemptFails"),
)
#: Counters that are gauges (a level, not a running total): no per-second rate.
GAUGES = frozenset({"CurrEstab", "sockstat_tw", "sockstat_orphan", "sockstat_inuse"})


def read_sysctl(name: str) -> str | None:
    """One sysctl's value with whitespace folded, or None when the kernel has no such sysctl."""
    try:
        with open("/proc/sys/" + name.replace(".", "/")) as f:
            return " ".join(f.read().split())
    except OSError:
        return None


def read_global_sysctl(name: str) -> str | None:
    """A global sysctl, read in the namespace twtop started in or the initial one when the
    current namespace does not have it (None: not readable anywhere, e.g. without
    CAP_SYS_ADMIN)."""
    value = read_sysctl(name)
    homes = [INITIAL_NETNS]
    if _HOME_NETNS_FD is not None:
        homes.insert(0, f"/proc/self/fd/{_HOME_NETNS_FD}")
    for path in homes:
        if value is not None:
            break
        try:
            with netns_mod.entered(path):
                value = read_sysctl(name)
        except UnavailableError:
            continue
    return value


def read_sysctls() -> dict[str, str | None]:
    """All sysctls twtop shows (short names without the net.ipv4. / net.core. prefix)."""
    out: dict[str, str | None] = {}
    for name in SYSCTLS:
        short = name.rsplit(".", 1)[1]
        out[short] = read_global_sysctl(name) if short in GLOBAL_SYSCTLS else read_sysctl(name)
    return out


def parse_pairs(text: str) -> dict[str, dict[str, int]]:
    """Parse /proc/net/netstat or /proc/net/snmp: header/value line pairs per section."""
    out: dict[str, dict[str, int]] = {}
    lines = text.splitlines()
    for head, vals in zip(lines[::2], lines[1::2], strict=False):
        hname, _, hkeys = head.partition(":")
        vname, _, vvals = vals.partition(":")
        if hname != vname:
            continue
        section = out.setdefault(hname, {})
        for k, v in zip(hkeys.split(), vvals.split(), strict=False):
            try:
                section[k] = int(v)
            except ValueError:
                continue
    return out


def parse_sockstat(text: str) -> dict[str, int]:
    """Parse /proc/net/sockstat's TCP line (inuse, orphan, tw, alloc, mem)."""
    for line in text.splitlines():
        if line.startswith("TCP:"):
            words = line.split()[1:]
            pairs = zip(words[::2], words[1::2], strict=False)
            return {k: int(v) for k, v in pairs if v.isascii() and v.isdigit()}
    return {}


def read_proc_net(name: str, notes: list[str] | None = None, base: str | None = None) -> str:
    """The text of /proc/net/NAME; "" with a note when it is missing, empty or not UTF-8."""
    path = os.path.join(base or PROC_NET, name)
    problem = None
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 20)
    except OSError as exc:
        data, problem = b"", f"cannot be read ({exc.strerror})"
    text = ""
    if data:
        try:
            text = data.decode()
        except UnicodeDecodeError:
            problem = "is not valid UTF-8"
    elif problem is None:
        problem = "is empty"
    if problem and notes is not None:
        notes.append(f"/proc/net/{name} {problem}: its counters are unknown")
    return text


def counters_from(read: Callable[[str], str]) -> dict[str, int]:
    """The counters twtop tracks from the netstat, snmp and sockstat texts ``read`` returns;
    the ones not found are left out (unknown, never 0)."""
    tables = {"netstat": parse_pairs(read("netstat")), "snmp": parse_pairs(read("snmp"))}
    out: dict[str, int] = {}
    for file, section, name in COUNTERS:
        value = tables[file].get(section, {}).get(name)
        if value is not None:
            out[name] = value
    sock = parse_sockstat(read("sockstat"))
    for key in ("tw", "orphan", "inuse"):
        if key in sock:
            out[f"sockstat_{key}"] = sock[key]
    return out


def read_counters(notes: list[str] | None = None) -> dict[str, int]:
    """The counters twtop tracks, from the calling thread's namespace; unreadable files add a
    line to ``notes`` instead of failing."""
    return counters_from(lambda name: read_proc_net(name, notes))


def parse_port_range(value: str | None) -> tuple[int, int]:
    """ip_local_port_range as (low, high); the kernel default when unreadable."""
    try:
        lo, hi = (int(x) for x in (value or "").split())
        return lo, hi
    except ValueError:
        return 32768, 60999


def parse_reserved(value: str | None) -> list[tuple[int, int]]:
    """ip_local_reserved_ports (``1000-2000,3000``) as inclusive ranges."""
    out = []
    for part in (value or "").replace(" ", "").split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        try:
            a, b = int(lo), int(hi or lo)
        except ValueError:
            continue
        out.append((min(a, b), max(a, b)))
    return out


def reserved_in_range(reserved: list[tuple[int, int]], low: int, high: int) -> int:
    """How many reserved ports fall inside [low, high] (overlapping entries counted once)."""
    ports: set[int] = set()
    for a, b in reserved:
        a, b = max(a, low), min(b, high)
        if a <= b:
            ports.update(range(a, b + 1))
    return len(ports)


def kernel_release() -> str:
    """uname -r."""
    return os.uname().release


def hostname() -> str:
    """The host name (not namespaced by network namespaces)."""
    return os.uname().nodename
