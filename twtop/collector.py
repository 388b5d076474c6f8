"""The collector: dumps sockets over sock_diag, aggregates them, and builds Snapshots.

One poll reads sysctls and counters, makes a LISTEN dump (cheap: the kernel walks only the
listening hash) and then two walks of the socket tables, each covering IPv4 and IPv6 at once
(TCPDIAG_GETSOCK): one for TIME_WAIT, one for every other state. TIME_WAIT messages -- the bulk of
an incident -- all have one length, so each receive buffer is aggregated from a few key bytes per
message (C-speed slices and ``struct.iter_unpack``); no per-socket Python object is built for them.
Other sockets are decoded into rows and aggregated column-wise.
"""

from __future__ import annotations

import errno
import heapq
import operator
import os
import socket
import struct
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from itertools import compress, repeat
from typing import TYPE_CHECKING, Any

from twtop import bytecode as bc
from twtop import netns as netns_mod
from twtop import sysinfo, wire
from twtop.errors import UnavailableError, UsageError
from twtop.filter import Plan, compile_filter, evaluate
from twtop.model import (
    CLOSE_WAIT_AGED_S,
    GROUPS,
    TIME_WAIT_S,
    Churn,
    Listener,
    Owner,
    PeerRow,
    PortTuple,
    PortUsage,
    ProcessRow,
    Snapshot,
    Socket,
    fmt_endpoint,
)
from twtop.procs import ProcessMap

if TYPE_CHECKING:
    from twtop.detail import TcpInfo
from twtop.states import MASK_ALL, TcpState

AF_INET, AF_INET6 = socket.AF_INET, socket.AF_INET6
TW = int(TcpState.TIME_WAIT)
LISTEN = int(TcpState.LISTEN)
CLOSE_WAIT = int(TcpState.CLOSE_WAIT)
TW_BIT = 1 << TW
LISTEN_BIT = 1 << LISTEN

#: TIME_WAITs with more than (60 s - window) left entered TIME_WAIT within the window.
CHURN_WINDOW_S = 10.0
#: Peer groups kept in a Snapshot (top by total and by each key state); the rest are counted only.
MAX_PEERS = 2000
#: Outbound port tuples kept in a Snapshot (top by use).
MAX_TUPLES = 500

_MAPPED = b"\0" * 10 + b"\xff\xff"
_KEY_STATES = (TcpState.ESTABLISHED, TcpState.TIME_WAIT, TcpState.CLOSE_WAIT, TcpState.FIN_WAIT2)
_NO_OWNER = "(no owner)"


class AddrCache:
    """Raw address bytes -> text, IPv4-mapped IPv6 shown as IPv4 (as ss does)."""

    def __init__(self) -> None:
        self._cache: dict[bytes, str] = {}

    def __call__(self, raw: bytes, family: int) -> str:
        key = raw if family == AF_INET6 else raw[:4]
        text = self._cache.get(key)
        if text is None:
            if family == AF_INET6 and key[:12] == _MAPPED:
                text = socket.inet_ntop(AF_INET, key[12:16])
            elif family == AF_INET6:
                text = socket.inet_ntop(AF_INET6, key[:16])
            else:
                text = socket.inet_ntop(AF_INET, key[:4])
            self._cache[key] = text
        return text


class Listeners:
    """Listening sockets, and the test that calls a socket inbound."""

    def __init__(self) -> None:
        self.wild: set[int] = set()  # raw ports listened on 0.0.0.0 / ::
        self.ports: set[int] = set()  # every raw listening port
        self.port_bytes: list[bytes] = []  # the same, as their two bytes on the wire
        self.specific: set[tuple[bytes, int]] = set()  # (raw 16-byte address, raw port)
        self.specific_v4: set[tuple[int, int]] = set()  # the IPv4 ones as (address word, port)
        self.rows: list[tuple[int, wire.Row]] = []

    def add(self, family: int, row: wire.Row) -> None:
        """Record one LISTEN row."""
        self.rows.append((family, row))
        addr = row[wire.R_SRC]
        if row[wire.R_SPORT] not in self.ports:
            self.ports.add(row[wire.R_SPORT])
            self.port_bytes.append(wire.port(row[wire.R_SPORT]).to_bytes(2, "big"))
        if addr == bytes(16) or addr == _MAPPED + bytes(4):
            self.wild.add(row[wire.R_SPORT])
        else:
            self.specific.add((addr, row[wire.R_SPORT]))
            if family == AF_INET:
                self.specific_v4.add((int.from_bytes(addr[:4], sys.byteorder), row[wire.R_SPORT]))

    def is_inbound(self, src: bytes, sport: int) -> bool:
        """A socket is inbound when its local port is listened on, on its address or the
        wildcard."""
        return sport in self.wild or (src, sport) in self.specific


class Aggregator:
    """Turns decoded rows (and TIME_WAIT key buffers) into the parts of a Snapshot."""

    def __init__(self, group: str, plan: Plan, listeners: Listeners, pid_of: dict[int, int]):
        self.group = group
        self.plan = plan
        self.listeners = listeners
        self.pid_of = pid_of
        self.states: Counter[int] = Counter()
        self.families: Counter[int] = Counter()
        # (family, group key as produced by a path, path tag) -> Counter; resolved at the end
        self.groups: Counter[tuple[Any, ...]] = Counter()  # (family, tag, gkey, state, inbound)
        self.peer_pids: Counter[tuple[Any, ...]] = Counter()  # (family, tag, gkey, pid)
        self.tuples: Counter[tuple[Any, ...]] = Counter()  # (family, tag, tkey) -> used
        self.tuples_tw: Counter[tuple[Any, ...]] = Counter()
        self.tuples_recent: Counter[tuple[Any, ...]] = Counter()
        self.procs: Counter[tuple[int, int]] = Counter()  # (pid, state)
        self.tw_keys: defaultdict[tuple[str, bool], Counter[tuple[Any, ...]]] = defaultdict(Counter)
        self.tw_recent: defaultdict[str, Counter[tuple[Any, ...]]] = defaultdict(Counter)
        # IPv4 outbound TIME_WAIT buffers of one (dport, src): destination int -> count
        self.tw_dsts: defaultdict[bytes, Counter[int]] = defaultdict(Counter)
        self.tw_dsts_recent: defaultdict[bytes, Counter[int]] = defaultdict(Counter)
        self.recent_tw = 0
        self.unowned: set[int] = set()  # inodes of sockets no known process holds
        # (family, tag, state, inbound, src, dst, pa, pb, pid) -> sockets; see _add_columns
        self.sockets_by_key: Counter[tuple[Any, ...]] = Counter()
        self.cw_cookies: list[int] = []
        self.cw_unread = 0  # CLOSE_WAITs with unread data in the receive queue
        self.sockets: list[tuple[int, wire.Row]] | None = None
        self.threshold_ms = int((TIME_WAIT_S - CHURN_WINDOW_S) * 1000)

    # -- the generic path: full rows ----------------------------------------------------------
    def add_rows(self, rows: list[wire.Row], all_inbound: bool = False) -> None:
        """Aggregate decoded rows (any state, either family); listeners pass ``all_inbound``."""
        plan = self.plan
        if plan.node is not None:
            node = plan.node
            port = wire.port
            rows = [
                r
                for r in rows
                if evaluate(
                    node, r[wire.R_FAMILY], r[wire.R_STATE], r[wire.R_SRC], port(r[wire.R_SPORT]),
                    r[wire.R_DST], port(r[wire.R_DPORT]),
                )
            ]  # fmt: skip
        if not rows:
            return
        if self.sockets is not None:
            self.sockets.extend((r[wire.R_FAMILY], r) for r in rows)
        cols = list(zip(*rows, strict=True))
        fam = cols[wire.R_FAMILY]
        self.families.update(fam)
        cookies = cols[wire.R_COOKIE]
        self._add_columns(
            "row", fam, cols[wire.R_STATE], cols[wire.R_SRC], cols[wire.R_SPORT],
            cols[wire.R_DST], cols[wire.R_DPORT], cols[wire.R_INODE], cols[wire.R_EXPIRES],
            cols[wire.R_RQUEUE], lambda sel: compress(cookies, sel), all_inbound,
        )  # fmt: skip

    def add_full(self, buf: bytes, length: int) -> None:
        """Aggregate a uniform buffer of full sockets column-wise, straight from the bytes.

        IPv4-only buffers (addresses as ints of their first word) take this path; any other
        buffer, a Python-side filter or a socket list falls back to rows.
        """
        fams = buf[16::length]
        n = len(fams)
        if fams.count(AF_INET) != n or self.plan.node is not None or self.sockets is not None:
            self.add_rows(wire.unpack_rows(buf, length))
            return
        self.families[AF_INET] += n
        words, halves = length // 4, length // 2
        mv = memoryview(buf).cast("I")
        mh = memoryview(buf).cast("H")

        def cookies(sel: list[bool]) -> Iterable[int]:
            lo = compress(mv[15::words].tolist(), sel)  # cookie: bytes 60..68
            hi = compress(mv[16::words].tolist(), sel)
            return (a | b << 32 for a, b in zip(lo, hi, strict=True))

        self._add_columns(
            "v4", (AF_INET,) * n, list(buf[17::length]), mv[6::words].tolist(),
            mh[10::halves].tolist(), mv[10::words].tolist(), mh[11::halves].tolist(),
            mv[21::words].tolist(), mv[17::words].tolist(), mv[18::words].tolist(), cookies, False,
        )  # fmt: skip

    def _add_columns(
        self,
        tag: str,
        fam: Sequence[int],
        states: Sequence[int],
        srcs: Sequence[Any],
        sports: Sequence[int],
        dsts: Sequence[Any],
        dports: Sequence[int],
        inodes: Sequence[int],
        expires: Sequence[int],
        rqueues: Sequence[int],
        cookies: Callable[[list[bool]], Iterable[int]],
        all_inbound: bool,
    ) -> None:
        """The aggregation shared by rows ("row": 16-byte addresses) and IPv4 columns ("v4":
        addresses as the int of their first word)."""
        n = len(states)
        self.states.update(states)
        lst = self.listeners
        inbound: list[bool]
        if all_inbound:
            inbound = [True] * n
        else:
            # C-speed port test first; the exact (address, port) test only for the few hits.
            inbound = list(map(lst.ports.__contains__, sports))
            if lst.specific and any(inbound):
                spec = lst.specific if tag == "row" else lst.specific_v4
                exact = map(spec.__contains__, zip(srcs, sports, strict=True))
                inbound = list(map(operator.or_, map(lst.wild.__contains__, sports), exact))
        pids: list[Any] = list(map(self.pid_of.get, inodes))
        if pids.count(None) > list(inodes).count(0):  # sockets whose owner is not mapped yet
            self.unowned.update(compress(inodes, map(operator.not_, pids)))
            self.unowned.discard(0)
        # One Counter over the dimensions every view needs; the ephemeral side's port is left out
        # (0) wherever no view needs it, so sockets of one peer collapse into a few keys.
        # pa: the remote port for outbound sockets (their port tuple), or for every socket when
        # grouping by remote IP:port; pb: the local port when grouping by it.
        outbound = list(map(operator.not_, inbound))
        if self.group == "ipport":
            pa: Sequence[int] = dports
        else:
            pa = list(map(operator.mul, dports, outbound))
        pb: Iterable[int] = sports if self.group == "lport" else repeat(0, n)
        self.sockets_by_key.update(
            zip(fam, repeat(tag, n), states, inbound, srcs, dsts, pa, pb, pids, strict=False)
        )
        is_cw = list(map(CLOSE_WAIT.__eq__, states))
        if any(is_cw):
            self.cw_cookies.extend(cookies(is_cw))
            # rqueue counts the peer's FIN as 1 until the application reads end-of-file
            self.cw_unread += sum(1 for q in compress(rqueues, is_cw) if q > 1)
        is_tw = list(map(TW.__eq__, states))
        if any(is_tw):
            thr = self.threshold_ms
            self.recent_tw += sum(map(thr.__lt__, compress(expires, is_tw)))
            out_tw = list(compress(is_tw, outbound))
            tkeys = compress(zip(fam, repeat(tag, n), srcs, dsts, pa, strict=False), outbound)
            tw_keys = list(compress(tkeys, out_tw))
            exp = compress(compress(expires, outbound), out_tw)
            self.tuples_recent.update(compress(tw_keys, map(thr.__lt__, exp)))

    # -- the fast path: TIME_WAIT buffers, keys only -----------------------------------------
    # A buffer of one family is unpacked to 1-tuples of key bytes; a mixed one to (family, bytes).
    # Counters are kept per layout and turned into the common form in ``finish`` (few keys).
    def add_tw_any(self, buf: bytes, length: int) -> None:
        """Aggregate a uniform buffer of TIME_WAIT messages of either direction.

        The direction is the local port: a C-speed membership test of every message's sport
        against the listening ports, refined for address-specific listeners on the hits only.
        Single-direction buffers (the usual case) go straight to ``add_tw``; mixed ones are split.
        """
        lst = self.listeners
        if not _any_port(buf, length, lst.port_bytes):
            self.add_tw(buf, length, inbound=False)  # the usual case: no listening port here
            return
        sports = memoryview(buf).cast("H")[10 :: length // 2].tolist()
        hits = list(map(lst.ports.__contains__, sports))
        if lst.specific and any(hits):
            srcs = list(_src_struct(length).iter_unpack(buf))
            for i in compress(range(len(hits)), hits):
                sp = sports[i]
                hits[i] = sp in lst.wild or (srcs[i][0], sp) in lst.specific
        if not any(hits):
            self.add_tw(buf, length, inbound=False)
        elif all(hits):
            self.add_tw(buf, length, inbound=True)
        else:
            self.add_tw(buf, length, inbound=True, select=hits)
            self.add_tw(buf, length, inbound=False, select=list(map(operator.not_, hits)))

    def add_tw(
        self, buf: bytes, length: int, inbound: bool, select: list[bool] | None = None
    ) -> None:
        """Aggregate a uniform buffer of TIME_WAIT messages of one direction from key bytes only
        (``select``: only the messages flagged True)."""
        fams = buf[16::length]
        if select is not None:
            fams = bytes(compress(fams, select))
        n = len(fams)
        v6 = fams.count(AF_INET6)
        layout = "v4" if v6 == 0 else "v6" if v6 == n else "mix"
        if v6 != n:
            self.families[AF_INET] += n - v6
        if v6:
            self.families[AF_INET6] += v6
        self.states[TW] += n
        thr = self.threshold_ms.__lt__
        mv = memoryview(buf).cast("I")
        words = length // 4
        exp = mv[17::words].tolist()
        if select is not None:
            exp = list(compress(exp, select))
        elif layout == "v4" and not inbound and _same_bytes(buf, length, n, 22, 28):
            # Every message has the same dport and source address (the usual case: one client
            # address talking to one service port): count destination addresses as ints.
            head = bytes(buf[22:28])
            dsts = mv[10::words].tolist()
            self.tw_dsts[head].update(dsts)
            recent_dsts = list(compress(dsts, map(thr, exp)))
            self.tw_dsts_recent[head].update(recent_dsts)
            self.recent_tw += len(recent_dsts)
            return
        keys = list(_tw_struct(layout, inbound, length).iter_unpack(buf))
        if select is not None:
            keys = list(compress(keys, select))
        self.tw_keys[(layout, inbound)].update(keys)
        recent = list(compress(keys, map(thr, exp)))
        self.recent_tw += len(recent)
        if not inbound:
            self.tw_recent[layout].update(recent)

    def finish(self) -> None:
        """Fold the row/column and TIME_WAIT fast-path counters into the per-view counters."""
        group = self.group
        tkey: tuple[Any, ...]
        for skey, c in self.sockets_by_key.items():
            fam, tag, st, is_in, src, dst, pa, pb, pid = skey
            if group == "ip":
                gkey: Any = dst
            elif group == "ipport":
                gkey = (dst, pa)
            elif group == "lport":
                gkey = (src, pb)
            else:
                gkey = pid
            self.groups[(fam, tag, gkey, st, is_in)] += c
            if pid is not None:
                self.peer_pids[(fam, tag, gkey, pid)] += c
                self.procs[(pid, st)] += c
            if not is_in:
                tkey = (fam, tag, src, dst, pa)
                self.tuples[tkey] += c
                if st == TW:
                    self.tuples_tw[tkey] += c
        self.sockets_by_key.clear()
        for (layout, inbound), counts in self.tw_keys.items():
            for t, c in counts.items():
                fam, kb = _tw_key(layout, t)
                if inbound:  # key: sport(2) + src(16) + dst
                    self.groups[(fam, "twin", kb, TW, True)] += c
                else:  # key: dport(2) + src(16) + dst
                    tkey = (fam, "twout", kb)
                    self.tuples[tkey] += c
                    self.tuples_tw[tkey] += c
                    self.groups[(fam, "twout", kb, TW, False)] += c
        for layout, counts in self.tw_recent.items():
            for t, c in counts.items():
                fam, kb = _tw_key(layout, t)
                self.tuples_recent[(fam, "twout", kb)] += c
        pad = bytes(12)
        for by_head, target in ((self.tw_dsts, "all"), (self.tw_dsts_recent, "recent")):
            for head, per_dst in by_head.items():
                for dst_word, c in per_dst.items():
                    kb = head + pad + dst_word.to_bytes(4, sys.byteorder)  # dport, src, dst
                    tkey = (AF_INET, "twout", kb)
                    if target == "recent":
                        self.tuples_recent[tkey] += c
                    else:
                        self.tuples[tkey] += c
                        self.tuples_tw[tkey] += c
                        self.groups[(AF_INET, "twout", kb, TW, False)] += c
        self.tw_keys.clear()
        self.tw_recent.clear()
        self.tw_dsts.clear()
        self.tw_dsts_recent.clear()

    # -- the result ----------------------------------------------------------------------------
    def peer_label(self, family: int, tag: str, gkey: object, addr: AddrCache) -> str:
        """The text of a group key produced by one of the paths above."""
        group = self.group
        if tag == "twout":  # key: dport(2) src(16) dst
            assert isinstance(gkey, bytes)
            if group == "process":
                return _NO_OWNER
            return addr(gkey[18:], family)
        if tag == "twin":  # key: sport(2) src(16) dst
            assert isinstance(gkey, bytes)
            if group == "process":
                return _NO_OWNER
            return addr(gkey[18:], family)
        if tag == "v4" and group in ("ip", "ipport"):  # addresses as ints: back to bytes
            if isinstance(gkey, int):
                gkey = _v4_bytes(gkey)
            elif isinstance(gkey, tuple):
                gkey = (_v4_bytes(gkey[0]), gkey[1])
        if group == "ip":
            assert isinstance(gkey, bytes)
            return addr(gkey, family)
        if group == "ipport":
            assert isinstance(gkey, tuple)
            return fmt_endpoint(addr(gkey[0], family), wire.port(gkey[1]))
        if group == "lport":
            assert isinstance(gkey, tuple)
            return str(wire.port(gkey[1]))
        return _NO_OWNER if gkey is None else str(gkey)

    def tuple_parts(
        self, family: int, tag: str, tkey: tuple[Any, ...], addr: AddrCache
    ) -> tuple[str, str, int]:
        """(src, dst, dport) of a port-tuple key."""
        if tag == "twout":
            key = tkey[0]
            dport = int.from_bytes(key[:2], "big")
            return addr(key[2:18], family), addr(key[18:], family), dport
        src, dst, dport = tkey
        if tag == "v4":
            src, dst = _v4_bytes(src), _v4_bytes(dst)
        return addr(src, family), addr(dst, family), wire.port(dport)


_tw_structs: dict[tuple[str, bool, int], struct.Struct] = {}


def _tw_struct(layout: str, inbound: bool, length: int) -> struct.Struct:
    """Key layout of a TIME_WAIT message: the service port, then src and dst addresses.

    Outbound: dport (offset 22), src (24..40), dst (40..). Inbound: sport (20), then src and dst,
    skipping the peer's ephemeral dport. IPv4 addresses use the first 4 of their 16 bytes.
    """
    k = (layout, inbound, length)
    s = _tw_structs.get(k)
    if s is None:
        head = "16xB3x" if layout == "mix" else "20x"  # (family), state, timer, retrans
        dlen = 4 if layout == "v4" else 16
        body = f"2s2x{16 + dlen}s" if inbound else f"2x{18 + dlen}s"
        fmt = "=" + head + body
        size = struct.calcsize(fmt)
        s = _tw_structs[k] = struct.Struct(f"{fmt}{length - size}x")
    return s


#: Listening ports up to which ``_any_port`` searches byte by byte; above, map() is cheaper.
_PORT_SEARCH_MAX = 16


def _any_port(buf: bytes, length: int, ports: list[bytes]) -> bool:
    """Whether any message's local port (bytes 20..21) is one of ``ports`` (2-byte wire form).

    ``bytes.find`` on the strided first bytes visits only candidate messages (about 1 in 256 per
    port for ephemeral ports), so a buffer with no listening port is cleared at C speed.
    """
    if len(ports) > _PORT_SEARCH_MAX:
        return True  # let the caller test every message
    if not ports:
        return False
    firsts = buf[20::length]
    for p in ports:
        i = firsts.find(p[0])
        while i != -1:
            if buf[21 + i * length] == p[1]:
                return True
            i = firsts.find(p[0], i + 1)
    return False


def _v4_bytes(word: int) -> bytes:
    """An IPv4 address read as a native u32 word, back to its 16-byte sockid form."""
    return word.to_bytes(4, sys.byteorder) + bytes(12)


def _src_struct(length: int) -> struct.Struct:
    """The 16-byte source address of every message of a uniform buffer."""
    k = ("src", False, length)
    s = _tw_structs.get(k)
    if s is None:
        s = _tw_structs[k] = struct.Struct(f"=24x16s{length - 40}x")
    return s


def _same_bytes(buf: bytes, length: int, n: int, start: int, end: int) -> bool:
    """Whether bytes [start, end) are identical in all ``n`` messages of a uniform buffer."""
    return all(buf[i::length] == buf[i : i + 1] * n for i in range(start, end))


def _tw_key(layout: str, t: tuple[Any, ...]) -> tuple[int, bytes]:
    if layout == "mix":
        fam, *parts = t
    else:
        fam, parts = (AF_INET if layout == "v4" else AF_INET6), list(t)
    return fam, b"".join(parts)


class _CompatRefused(Exception):
    """The kernel does not take this request form."""


class Collector:
    """Polls one network namespace; keeps what deltas and caches need between polls."""

    def __init__(
        self,
        netns: str | None = None,
        filter: str | None = None,
        group: str = "ip",
        process_refresh_s: float = 5.0,
        keep_sockets: bool = False,
    ) -> None:
        self.netns_spec = netns
        self.netns_path = netns_mod.resolve(netns) if netns else None
        self.plan = compile_filter(filter)
        self.set_group(group)
        self.keep_sockets = keep_sockets
        self.procs = ProcessMap(process_refresh_s)
        self._sock: socket.socket | None = None
        self._seq = 0
        self._sock_ns = 0  # inode of the namespace the netlink socket was made in
        self._compat = True  # one TCPDIAG_GETSOCK walk for both families while the kernel takes it
        self._lock = threading.RLock()  # one netlink conversation at a time
        self._prev: tuple[float, dict[str, int], dict[TcpState, int]] | None = None
        self._cw_first_seen: dict[int, float] = {}  # CLOSE_WAIT cookie -> first poll that saw it
        self._unowned_before: set[int] = set()
        self.last_stats: list[wire.DecodeStats] = []

    # -- configuration -------------------------------------------------------------------------
    def set_filter(self, expr: str | None) -> None:
        """Replace the filter (raises FilterError and keeps the old one when it does not parse)."""
        plan = compile_filter(expr)
        self.plan = plan

    def set_group(self, group: str) -> None:
        """Choose how peers are grouped: ip, ipport, lport or process."""
        if group not in GROUPS:
            raise UsageError(f"--group must be one of {', '.join(GROUPS)}, not '{group}'")
        self.group = group

    def close(self) -> None:
        """Close the netlink socket."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> Collector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- netlink ---------------------------------------------------------------------------------
    def _socket(self) -> socket.socket:
        if self._sock is not None and self.netns_path is not None:
            # A netlink socket stays in the namespace it was made in: if the name now points at
            # another namespace (deleted and re-added), start over in the new one.
            try:
                current = os.stat(self.netns_path).st_ino
            except OSError:
                raise UnavailableError(f"network namespace {self.netns_path} is gone") from None
            if current != self._sock_ns:
                self.close()
                self._prev = None  # deltas across two namespaces would be nonsense
                self._cw_first_seen = {}
        if self._sock is None:
            if self.netns_path is not None:
                try:
                    self._sock_ns = os.stat(self.netns_path).st_ino
                except OSError:
                    raise UnavailableError(f"network namespace {self.netns_path} is gone") from None
            with netns_mod.entered(self.netns_path):
                try:
                    self._sock = wire.open_socket()
                except wire.SockDiagError as exc:
                    raise UnavailableError(
                        f"sock_diag unavailable: {exc.strerror} (is CONFIG_INET_DIAG enabled and "
                        "the tcp_diag module loaded?)"
                    ) from None
        return self._sock

    def _chunks(
        self, states: int, prog: bytes = b""
    ) -> Iterator[tuple[bytes, int, list[wire.Row] | None]]:
        """One dump of both families: a single TCPDIAG_GETSOCK walk, or (kernels without it) one
        SOCK_DIAG_BY_FAMILY dump per family."""
        if self._compat:
            try:
                yield from self._dump(wire.build_compat_request(states, self._next_seq(), prog))
                return
            except _CompatRefused:
                self._compat = False
        for fam in (AF_INET, AF_INET6):
            req = wire.build_request(fam, states, self._next_seq(), bytecode=prog)
            try:
                yield from self._dump(req)
            except _CompatRefused:
                if fam == AF_INET:
                    raise UnavailableError(
                        "sock_diag: the kernel refused the dump request"
                    ) from None

    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFFFFFFF or 1
        return self._seq

    def _dump(self, req: bytes) -> Iterator[tuple[bytes, int, list[wire.Row] | None]]:
        sock = self._socket()
        stats = wire.DecodeStats()
        self.last_stats.append(stats)
        try:
            yield from wire.dump_chunks(sock, req, stats, self._seq)
        except wire.SockDiagError as exc:
            self.close()  # the socket may hold the rest of a dump: start clean next time
            if exc.errno in (errno.EPERM, errno.EACCES):
                raise UnavailableError(f"sock_diag: permission denied ({exc.strerror})") from None
            if exc.errno in (errno.EINVAL, errno.ENOENT, errno.EOPNOTSUPP) and stats.messages == 0:
                raise _CompatRefused() from None
            raise UnavailableError(f"sock_diag dump failed: {exc.strerror}") from None
        except OSError as exc:
            self.close()
            raise UnavailableError(f"sock_diag dump failed: {exc.strerror}") from None

    def _rows(self, states: int, prog: bytes = b"") -> Iterator[list[wire.Row]]:
        for buf, length, rows in self._chunks(states, prog):
            if length:
                yield wire.unpack_rows(buf, length)
            elif rows:
                yield rows

    def _listeners(self) -> Listeners:
        listeners = Listeners()
        for rows in self._rows(LISTEN_BIT):
            for r in rows:
                if r[wire.R_STATE] == LISTEN:
                    listeners.add(r[wire.R_FAMILY], r)
        return listeners

    # -- polling ---------------------------------------------------------------------------------
    def poll(self) -> Snapshot:
        """Take one Snapshot (thread-safe; polls never overlap)."""
        with self._lock:
            return self._poll()

    def _poll(self) -> Snapshot:
        t0 = time.perf_counter()
        now = time.time()
        self.last_stats = []
        plan = self.plan
        with netns_mod.entered(self.netns_path):
            sysctl = sysinfo.read_sysctls()
            self._proc_notes: list[str] = []
            counters = sysinfo.read_counters(self._proc_notes)
        listeners = self._listeners()
        self.procs.refresh(r[wire.R_INODE] for _f, r in listeners.rows)
        agg = Aggregator(self.group, plan, listeners, self.procs.pid_of())
        if self.keep_sockets:
            agg.sockets = []
        # Listeners count like any socket when the filter lets them through.
        if plan.accepts_state(TcpState.LISTEN):
            agg.add_rows(
                [r for f, r in listeners.rows if _kernel_accepts(plan, f, r)], all_inbound=True
            )
        mask = plan.mask & MASK_ALL & ~LISTEN_BIT
        if plan.node is None and self.group in ("ip", "process") and not self.keep_sockets:
            # TIME_WAITs -- the bulk of an incident -- in their own walk: uniform messages,
            # aggregated from key bytes without building a row per socket.
            if mask & TW_BIT:
                self._walk(TW_BIT, agg.add_tw_any, agg)
            mask &= ~TW_BIT
        if mask:
            self._walk(mask, agg.add_full, agg)
        agg.finish()
        # Owners of sockets seen unowned in two polls in a row: rescan /proc (rate-limited).
        # Short-lived sockets (an accept-and-close loop) never trigger the scan.
        if agg.unowned & self._unowned_before:
            self.procs.refresh(unknown=True)
        self._unowned_before = agg.unowned
        collect_ms = (time.perf_counter() - t0) * 1000
        return self._build(agg, listeners, sysctl, counters, now, collect_ms)

    def _walk(self, states: int, uniform: Callable[[bytes, int], None], agg: Aggregator) -> None:
        """One dump: uniform buffers go to ``uniform``, others (already decoded) to rows."""
        for buf, length, rows in self._chunks(states, self.plan.bytecode):
            if length:
                uniform(buf, length)
            elif rows:
                agg.add_rows(rows)

    # -- building the Snapshot --------------------------------------------------------------------
    def _build(
        self,
        agg: Aggregator,
        listeners: Listeners,
        sysctl: dict[str, str | None],
        counters: dict[str, int],
        now: float,
        collect_ms: float,
    ) -> Snapshot:
        addr = AddrCache()
        states = {TcpState(s): n for s, n in agg.states.items() if s in TcpState._value2member_map_}
        # Peers
        per: dict[str, dict[TcpState, int]] = {}
        inb: Counter[str] = Counter()
        outb: Counter[str] = Counter()
        for (fam, tag, gkey, st, is_in), n in agg.groups.items():  # noqa: B007
            label = agg.peer_label(fam, tag, gkey, addr)
            d = per.setdefault(label, {})
            state = TcpState(st) if st in TcpState._value2member_map_ else TcpState.CLOSE
            d[state] = d.get(state, 0) + n
            (inb if is_in else outb)[label] += n
        pnames: dict[str, set[str]] = {}
        for (fam, tag, gkey, pid), _n in agg.peer_pids.items():
            owner = self.procs.owner(pid)
            if owner is not None:
                label = agg.peer_label(fam, tag, gkey, addr)
                pnames.setdefault(label, set()).add(f"{owner.name}[{pid}]")
        rows = [
            PeerRow(
                peer=label,
                total=sum(d.values()),
                states=d,
                inbound=inb[label],
                outbound=outb[label],
                processes=tuple(sorted(pnames.get(label, ()))),
            )
            for label, d in per.items()
        ]
        keep: dict[str, PeerRow] = {}
        for r in heapq.nlargest(MAX_PEERS, rows, key=lambda r: r.total):
            keep[r.peer] = r
        for state in _KEY_STATES:  # so sorting the UI by a key state is right at the top too
            for r in heapq.nlargest(MAX_PEERS, rows, key=partial(PeerRow.count, state=state)):
                keep[r.peer] = r
        peers = tuple(sorted(keep.values(), key=lambda r: (-r.total, r.peer)))
        # Port tuples
        low, high = sysinfo.parse_port_range(sysctl.get("ip_local_port_range"))
        reserved = sysinfo.reserved_in_range(
            sysinfo.parse_reserved(sysctl.get("ip_local_reserved_ports")), low, high
        )
        available = max(0, high - low + 1 - reserved)
        tmerge: dict[tuple[str, str, int], list[float]] = {}
        for (fam, tag, *tkey), used in agg.tuples.items():
            parts = agg.tuple_parts(fam, tag, tuple(tkey), addr)
            full = (fam, tag, *tkey)
            acc = tmerge.setdefault(parts, [0, 0, 0])
            acc[0] += used
            acc[1] += agg.tuples_tw.get(full, 0)
            acc[2] += agg.tuples_recent.get(full, 0)
        tuples = [
            PortTuple(s, d, p, int(u), int(t), available, r / CHURN_WINDOW_S)
            for (s, d, p), (u, t, r) in tmerge.items()
        ]
        top_tuples = tuple(heapq.nlargest(MAX_TUPLES, tuples, key=lambda t: (t.used, t.tw_per_s)))
        ports = PortUsage(
            low, high, reserved, top_tuples, len(tuples), sum(t.time_wait for t in tuples)
        )
        # Processes
        pstates: dict[int, dict[TcpState, int]] = {}
        for (pid, st), n in agg.procs.items():
            if st in TcpState._value2member_map_:
                pstates.setdefault(pid, {})[TcpState(st)] = n
        processes = []
        for pid, d in pstates.items():
            owner = self.procs.owner(pid)
            if owner is not None:
                processes.append(ProcessRow(pid, owner.name, owner.user, d))
        processes.sort(key=lambda p: (-p.states.get(TcpState.CLOSE_WAIT, 0), -p.total, p.pid))
        # Listeners with their accept queues
        lrows = []
        for fam, lrow in listeners.rows:
            pid = self.procs.pid_of().get(lrow[wire.R_INODE])
            lrows.append(
                Listener(
                    addr(lrow[wire.R_SRC], fam),
                    wire.port(lrow[wire.R_SPORT]),
                    lrow[wire.R_RQUEUE],
                    lrow[wire.R_WQUEUE],
                    self.procs.owner(pid) if pid is not None else None,
                )
            )
        lrows.sort(key=lambda x: (-x.queued, x.lport, x.local))
        # Deltas since the previous poll
        rates: dict[str, float] = {}
        state_rates: dict[TcpState, float] = {}
        tw_counter_rate = tw_delta_rate = None
        interval = None
        if self._prev is not None:
            pt, pc, ps = self._prev
            dt = now - pt
            if dt > 0:
                interval = dt
                for k, v in counters.items():
                    if k not in sysinfo.GAUGES and k in pc:
                        rates[k] = max(0, v - pc[k]) / dt
                for s in TcpState:
                    state_rates[s] = (states.get(s, 0) - ps.get(s, 0)) / dt
                if "TW" in rates:
                    tw_counter_rate = rates["TW"] + rates.get("TWKilled", 0.0)
                tw_delta_rate = state_rates[TcpState.TIME_WAIT]
        self._prev = (now, counters, states)
        churn = Churn(
            CHURN_WINDOW_S, agg.recent_tw / CHURN_WINDOW_S, tw_counter_rate, tw_delta_rate
        )
        seen = self._cw_first_seen
        self._cw_first_seen = {c: seen.get(c, now) for c in agg.cw_cookies}
        ages = [now - t for t in self._cw_first_seen.values()]
        notes = self._notes(agg)
        sockets: tuple[Socket, ...] = ()
        if agg.sockets is not None:
            sockets = tuple(self.to_socket(f, r, listeners, addr) for f, r in agg.sockets)
        return Snapshot(
            taken_at=now,
            host=sysinfo.hostname(),
            kernel=sysinfo.kernel_release(),
            netns=self.netns_spec,
            collect_ms=collect_ms,
            filter=self.plan.text,
            group=self.group,
            states=states,
            ipv4=agg.families.get(AF_INET, 0),
            ipv6=agg.families.get(AF_INET6, 0),
            peers=peers,
            peers_total=len(rows),
            ports=ports,
            churn=churn,
            sysctl=sysctl,
            counters=counters,
            rates=rates,
            state_rates=state_rates,
            processes=tuple(processes),
            listeners=tuple(lrows),
            notes=notes,
            malformed=sum(s.malformed for s in self.last_stats),
            interval_s=interval,
            sockets=sockets,
            close_wait_oldest_s=max(ages, default=None),
            close_wait_aged=sum(1 for a in ages if a >= CLOSE_WAIT_AGED_S),
            close_wait_unread=agg.cw_unread,
        )

    def _notes(self, agg: Aggregator) -> tuple[str, ...]:
        notes = list(self._proc_notes)
        if self.procs.unreadable and os.geteuid() != 0:
            notes.append(
                f"process names need root: {self.procs.unreadable} processes' file descriptors "
                "could not be read; only your own sockets are attributed"
            )
        malformed = sum(s.malformed for s in self.last_stats)
        if malformed:
            notes.append(f"{malformed} malformed netlink messages skipped")
        if any(s.interrupted for s in self.last_stats):
            notes.append("the kernel flagged a dump as interrupted (sockets changed during it)")
        return tuple(notes)

    def to_socket(
        self,
        family: int,
        r: wire.Row,
        listeners: Listeners | None = None,
        addr: AddrCache | None = None,
    ) -> Socket:
        """Turn a decoded row into a Socket (with owner and direction when known)."""
        addr = addr or AddrCache()
        st = r[wire.R_STATE]
        pid = self.procs.pid_of().get(r[wire.R_INODE]) if r[wire.R_INODE] else None
        owner: Owner | None = self.procs.owner(pid) if pid is not None else None
        inbound = None
        if listeners is not None:
            inbound = st == LISTEN or listeners.is_inbound(r[wire.R_SRC], r[wire.R_SPORT])
        return Socket(
            family=family,
            state=TcpState(st) if st in TcpState._value2member_map_ else TcpState.CLOSE,
            local=addr(r[wire.R_SRC], family),
            lport=wire.port(r[wire.R_SPORT]),
            remote=addr(r[wire.R_DST], family),
            rport=wire.port(r[wire.R_DPORT]),
            timer=r[wire.R_TIMER],
            expires_ms=r[wire.R_EXPIRES],
            retrans=r[wire.R_RETRANS],
            rqueue=r[wire.R_RQUEUE],
            wqueue=r[wire.R_WQUEUE],
            uid=r[wire.R_UID],
            inode=r[wire.R_INODE],
            cookie=r[wire.R_COOKIE],
            inbound=inbound,
            owner=owner,
        )

    def tcp_info(self, sock: Socket) -> TcpInfo | None:
        """tcp_info of one socket by exact lookup (None: gone, or a TIME_WAIT/request socket,
        which carry no tcp_info)."""
        from twtop.detail import decode_reply, lookup_request

        with self._lock:
            s = self._socket()
            s.send(lookup_request(sock, self._next_seq()))
            try:
                data = s.recv(wire.RECV_SIZE)
            except OSError:
                self.close()
                return None
        err, info = decode_reply(data)
        return info if err == 0 else None

    def sockets(self, filter: str | None = None, limit: int | None = None) -> list[Socket]:
        """Sockets matching a filter, straight from a filtered kernel dump (no full poll)."""
        with self._lock:  # the UI asks for sockets while the poll thread dumps
            return self._sockets(filter, limit)

    def _sockets(self, filter: str | None, limit: int | None) -> list[Socket]:
        plan = compile_filter(filter) if filter is not None else self.plan
        listeners = self._listeners()
        out: list[tuple[int, wire.Row]] = []
        for rows in self._rows(plan.mask, plan.bytecode):
            for r in rows:
                fam = r[wire.R_FAMILY]
                if plan.node is None or evaluate(
                    plan.node, fam, r[wire.R_STATE], r[wire.R_SRC], wire.port(r[wire.R_SPORT]),
                    r[wire.R_DST], wire.port(r[wire.R_DPORT]),
                ):  # fmt: skip
                    out.append((fam, r))
        self.procs.refresh(r[wire.R_INODE] for _f, r in out)
        addr = AddrCache()
        socks = [self.to_socket(f, r, listeners, addr) for f, r in out]
        socks.sort(
            key=lambda s: (_LIST_ORDER.get(s.state, 99), s.remote, s.rport, s.local, s.lport)
        )
        return socks[:limit] if limit is not None else socks


#: Order of sockets in a listing: the states that need a person's attention first.
_LIST_ORDER = {
    st: i
    for i, st in enumerate(
        (TcpState.CLOSE_WAIT, TcpState.FIN_WAIT2, TcpState.LAST_ACK, TcpState.FIN_WAIT1,
         TcpState.CLOSING, TcpState.SYN_RECV, TcpState.SYN_SENT, TcpState.TIME_WAIT,
         TcpState.ESTABLISHED, TcpState.LISTEN, TcpState.CLOSE)
    )
}  # fmt: skip


def _kernel_accepts(plan: Plan, family: int, r: wire.Row) -> bool:
    if plan.bytecode and not bc.run(
        plan.bytecode, family, r[wire.R_SRC], wire.port(r[wire.R_SPORT]), r[wire.R_DST],
        wire.port(r[wire.R_DPORT]),
    ):  # fmt: skip
        return False
    return plan.node is None or evaluate(
        plan.node, family, r[wire.R_STATE], r[wire.R_SRC], wire.port(r[wire.R_SPORT]),
        r[wire.R_DST], wire.port(r[wire.R_DPORT]),
    )  # fmt: skip


def take_snapshot(
    netns: str | None = None,
    filter: str | None = None,
    group: str = "ip",
    keep_sockets: bool = False,
) -> Snapshot:
    """One Snapshot of the namespace (None: the current one), optionally filtered and grouped."""
    with Collector(netns=netns, filter=filter, group=group, keep_sockets=keep_sockets) as c:
        return c.poll()


def list_sockets(netns: str | None = None, filter: str | None = None) -> list[Socket]:
    """The sockets matching ``filter``, from a kernel-filtered dump."""
    with Collector(netns=netns) as c:
        return c.sockets(filter)


__all__ = ["Collector", "list_sockets", "take_snapshot"]
