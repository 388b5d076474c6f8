"""Sysctls and kernel counters, read from the calling thread's network namespace.

/proc/sys/net is resolved against the opener's namespace; /proc/net is a link to /proc/self/net (the
thread-group leader's namespace), so counters are read from /proc/thread-self/net, which follows the
calling thread after setns().
"""

from __future__ import annotations

import os

PROC_NET = "/proc/thread-self/net"

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


def read_sysctls() -> dict[str, str | None]:
    """All sysctls twtop shows (short names without the net.ipv4. / net.core. prefix)."""
    return {name.rsplit(".", 1)[1]: read_sysctl(name) for name in SYSCTLS}


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
            return {k: int(v) for k, v in zip(words[::2], words[1::2], strict=False) if v.isdigit()}
    return {}


def _read(name: str) -> str:
    try:
        with open(os.path.join(PROC_NET, name)) as f:
            return f.read()
    except OSError:
        return ""


def read_counters() -> dict[str, int]:
    """The counters twtop tracks; missing ones are left out."""
    tables = {"netstat": parse_pairs(_read("netstat")), "snmp": parse_pairs(_read("snmp"))}
    out: dict[str, int] = {}
    for file, section, name in COUNTERS:
        value = tables[file].get(section, {}).get(name)
        if value is not None:
            out[name] = value
    sock = parse_sockstat(_read("sockstat"))
    for key in ("tw", "orphan", "inuse"):
        if key in sock:
            out[f"sockstat_{key}"] = sock[key]
    return out


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
