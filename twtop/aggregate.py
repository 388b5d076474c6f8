"""The fast paths: receive buffers of one dump aggregated into counts with canonical keys.

TIME_WAIT messages -- the bulk of an incident -- all have one length, so each receive buffer is
aggregated from a few key bytes per message (C-speed strided slices and ``struct.iter_unpack``); no
per-socket Python object is built for them. Other sockets are aggregated column-wise: straight
from the bytes for IPv4-only buffers ("v4": addresses as the native int of their first word), from
decoded rows otherwise ("row": 16-byte addresses). Inside the aggregator keys keep the shape of
the path that made them (cheap to count); ``finish()`` turns them into canonical keys
(``PeerKey``, ``TupleKey``) and returns ``Counts``: nothing path-shaped leaves this module.
"""

from __future__ import annotations

import operator
import struct
import sys
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import compress, repeat
from typing import Any

from twtop import wire
from twtop.build import CHURN_WINDOW_S, Counts
from twtop.filter import Plan
from twtop.keys import AF_INET, AF_INET6, Listeners, TupleKey, canonical_addr, python_accepts
from twtop.model import NO_OWNER, TIME_WAIT_S, PeerKey
from twtop.ports import DEFAULT_REUSE_DELAY_MS, TIME_WAIT_MS
from twtop.states import TcpState

TW = int(TcpState.TIME_WAIT)
CLOSE_WAIT = int(TcpState.CLOSE_WAIT)
LISTEN = int(TcpState.LISTEN)

# Strided-slice indices of inet_diag_msg fields in a buffer cast to u32 words / u16 halves.
_W_SRC, _W_DST = wire.OFF_SRC // 4, wire.OFF_DST // 4
_W_COOKIE, _W_EXPIRES = wire.OFF_COOKIE // 4, wire.OFF_EXPIRES // 4
_W_IF = wire.OFF_IF // 4
_W_RQUEUE, _W_INODE = wire.OFF_RQUEUE // 4, wire.OFF_INODE // 4
_H_SPORT, _H_DPORT = wire.OFF_SPORT // 2, wire.OFF_DPORT // 2
#: dport + the IPv4 source word: what a "one client address, one service" buffer shares.
_HEAD = slice(wire.OFF_DPORT, wire.OFF_SRC + 4)
_PAD_V4 = bytes(wire.ADDR_LEN - 4)

Cookies = Callable[[list[bool]], Iterable[int]]


class Aggregator:
    """Turns decoded rows (and TIME_WAIT key buffers) into ``Counts``."""

    def __init__(
        self,
        group: str,
        plan: Plan,
        listeners: Listeners,
        pid_of: dict[int, int],
        young_ms: int = TIME_WAIT_MS - DEFAULT_REUSE_DELAY_MS,
        made_by: dict[int, int] | None = None,
    ):
        self.group = group
        self.plan = plan
        self.listeners = listeners
        self.pid_of = pid_of
        self.counts = Counts(group)
        # path-shaped keys, folded into canonical ones by finish():
        # (family, tag, state, inbound, src, dst, pa, pb, pid) -> sockets; see _add_columns
        self.sockets_by_key: Counter[tuple[Any, ...]] = Counter()
        self.tuples_recent: Counter[tuple[Any, ...]] = Counter()  # (family, tag, src, dst, pa)
        self.tuples_young: Counter[tuple[Any, ...]] = Counter()  # the same, younger than delay
        # local ports of outbound sockets by source: (family, tag, src) -> raw ports
        self.src_ports: defaultdict[tuple[Any, ...], set[int]] = defaultdict(set)
        # the same from buffers with one source: the raw u16 ports, appended as bytes (C speed)
        self.src_port_bytes: defaultdict[tuple[Any, ...], bytearray] = defaultdict(bytearray)
        self.tw_keys: defaultdict[tuple[str, bool], Counter[tuple[Any, ...]]] = defaultdict(Counter)
        self.tw_recent: defaultdict[str, Counter[tuple[Any, ...]]] = defaultdict(Counter)
        self.tw_young: defaultdict[str, Counter[tuple[Any, ...]]] = defaultdict(Counter)
        # IPv4 outbound TIME_WAIT buffers of one (dport, src): destination int -> count
        self.tw_dsts: defaultdict[bytes, Counter[int]] = defaultdict(Counter)
        self.tw_dsts_recent: defaultdict[bytes, Counter[int]] = defaultdict(Counter)
        self.tw_dsts_young: defaultdict[bytes, Counter[int]] = defaultdict(Counter)
        self.sockets: list[tuple[int, wire.Row]] | None = None
        self.owned_cookies: list[int] = []  # cookie and pid of every owned socket
        self.owned_pids: list[int] = []
        self.threshold_ms = int((TIME_WAIT_S - CHURN_WINDOW_S) * 1000)
        # A TIME_WAIT with more than this left is younger than tcp_tw_reuse_delay: connect()
        # cannot take it over even where tcp_tw_reuse applies (ports.PortPolicy).
        self.young_ms = young_ms
        self._addr: dict[tuple[Any, ...], tuple[int, bytes]] = {}
        #: cookie -> pid of sockets seen live by earlier polls (procs.CookieOwners), so a
        #: TIME_WAIT (which keeps its socket's cookie) names the process that made it. None or
        #: empty: no cookie is read on the TIME_WAIT path at all.
        self.made_by = made_by or None
        # attributed outbound TIME_WAITs of the fast path, per (layout or head, pid)
        self.tw_key_pids: defaultdict[tuple[str, int], Counter[tuple[Any, ...]]] = defaultdict(
            Counter
        )
        self.tw_dst_pids: defaultdict[tuple[bytes, int], Counter[int]] = defaultdict(Counter)
        self.tuples_pids: Counter[tuple[Any, ...]] = Counter()  # ((fam, tag, src, dst, pa), pid)

    # -- the generic path: full rows ----------------------------------------------------------
    def add_rows(self, rows: list[wire.Row], all_inbound: bool = False) -> None:
        """Aggregate decoded rows (any state, either family); listeners pass ``all_inbound``."""
        node = self.plan.node
        if node is not None:
            rows = [r for r in rows if python_accepts(node, r)]
        if not rows:
            return
        if self.sockets is not None:
            self.sockets.extend((r[wire.R_FAMILY], r) for r in rows)
        cols = list(zip(*rows, strict=True))
        fam = cols[wire.R_FAMILY]
        self.counts.families.update(fam)
        cookies = cols[wire.R_COOKIE]
        self._add_columns(
            "row", fam, cols[wire.R_STATE], cols[wire.R_SRC], cols[wire.R_SPORT],
            cols[wire.R_DST], cols[wire.R_DPORT], cols[wire.R_INODE], cols[wire.R_EXPIRES],
            cols[wire.R_RQUEUE], lambda sel: compress(cookies, sel), all_inbound,
        )  # fmt: skip

    def add_full(self, buf: bytes, length: int) -> None:
        """Aggregate a uniform buffer of full sockets column-wise, straight from the bytes.

        IPv4-only buffers take the "v4" columns (addresses as ints of their first word); others
        (IPv6, or both families: one walk interleaves them) the "row" columns (16-byte
        addresses), cut from the bytes without decoding rows. A Python-side filter or a socket
        list falls back to decoded rows.
        """
        if self.plan.node is not None or self.sockets is not None:
            self.add_rows(wire.unpack_rows(buf, length))
            return
        fams = buf[wire.OFF_FAMILY :: length]
        n = len(fams)
        words, halves = length // 4, length // 2
        mv = memoryview(buf).cast("I")
        mh = memoryview(buf).cast("H")

        every: list[int] = []

        def cookies(sel: list[bool]) -> Iterable[int]:
            if not every:  # the u64 as two native words, combined at C speed, once
                lo = mv[_W_COOKIE::words].tolist()
                hi = mv[_W_COOKIE + 1 :: words].tolist()
                every.extend(map(operator.or_, lo, map(operator.lshift, hi, repeat(32, n))))
            return compress(every, sel)

        if fams.count(AF_INET) == n:
            self.counts.families[AF_INET] += n
            tag = "v4"
            fam: Sequence[int] = (AF_INET,) * n
            srcs: Sequence[Any] = mv[_W_SRC::words].tolist()
            dsts: Sequence[Any] = mv[_W_DST::words].tolist()
        else:
            self.counts.families.update(fams)
            tag, fam = "row", list(fams)
            srcs, dsts = zip(*_addr_struct(length).iter_unpack(buf), strict=True)
        self._add_columns(
            tag, fam, list(buf[wire.OFF_STATE :: length]), srcs, mh[_H_SPORT::halves].tolist(),
            dsts, mh[_H_DPORT::halves].tolist(), mv[_W_INODE::words].tolist(),
            mv[_W_EXPIRES::words].tolist(), mv[_W_RQUEUE::words].tolist(), cookies, False,
        )  # fmt: skip

    def _inbound(self, tag: str, srcs: Sequence[Any], sports: Sequence[int]) -> list[bool]:
        """Which sockets are inbound: a C-speed port test first, the exact (address, port) test
        only for the few hits."""
        lst = self.listeners
        inbound = list(map(lst.ports.__contains__, sports))
        if lst.specific and any(inbound):
            spec = lst.specific if tag == "row" else lst.specific_v4
            exact = map(spec.__contains__, zip(srcs, sports, strict=True))
            inbound = list(map(operator.or_, map(lst.wild.__contains__, sports), exact))
        return inbound

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
        cookies: Cookies,
        all_inbound: bool,
    ) -> None:
        """The aggregation shared by rows ("row": 16-byte addresses) and IPv4 columns ("v4":
        addresses as the int of their first word)."""
        n = len(states)
        counts = self.counts
        counts.states.update(states)
        inbound = [True] * n if all_inbound else self._inbound(tag, srcs, sports)
        pids: list[Any] = list(map(self.pid_of.get, inodes))
        n_unowned = pids.count(None)
        if n_unowned > list(inodes).count(0):  # sockets whose owner is not mapped yet
            self._note_unowned(states, inodes, pids)
        if n_unowned < n:  # remembered by cookie for the TIME_WAIT each may become
            owned = list(map(operator.truth, pids))
            self.owned_cookies.extend(cookies(owned))
            self.owned_pids.extend(compress(pids, owned))
        # One Counter over the dimensions every view needs; the ephemeral side's port is left out
        # (0) wherever no view needs it, so sockets of one peer collapse into a few keys.
        # pa: the remote port for outbound sockets (their port tuple), or for every socket when
        # grouping by remote IP:port; pb: the local port when grouping by it, else the local
        # port of inbound sockets only (few: the listening ports; tw_in_ports).
        outbound = list(map(operator.not_, inbound))
        if self.group == "ipport":
            pa: Sequence[int] = dports
        else:
            pa = list(map(operator.mul, dports, outbound))
        pb: Iterable[int] = sports if self.group == "lport" else map(operator.mul, sports, inbound)
        self.sockets_by_key.update(
            zip(fam, repeat(tag, n), states, inbound, srcs, dsts, pa, pb, pids, strict=False)
        )
        if not all_inbound:  # the ports each source address holds, for the bind() view
            if fam.count(fam[0]) == n and srcs.count(srcs[0]) == n:  # one source: no pairs
                self.src_ports[(fam[0], tag, srcs[0])].update(compress(sports, outbound))
            else:
                self._src_ports(tag, fam, srcs, sports, outbound)
        is_cw = list(map(CLOSE_WAIT.__eq__, states))
        if any(is_cw):
            counts.cw_cookies.extend(cookies(is_cw))
            # rqueue counts the peer's FIN as 1 until the application reads end-of-file
            counts.cw_unread += sum(1 for q in compress(rqueues, is_cw) if q > 1)
        is_tw = list(map(TW.__eq__, states))
        if any(is_tw):
            tkeys = list(zip(fam, repeat(tag, n), srcs, dsts, pa, strict=False))
            self._add_tw_columns(is_tw, outbound, tkeys, expires)
            if self.made_by is not None:
                self._attribute_rows(self.made_by, is_tw, outbound, tkeys, cookies)

    def _src_ports(
        self, tag: str, fam: Sequence[int], srcs: Sequence[Any], sports: Sequence[int],
        outbound: list[bool],
    ) -> None:  # fmt: skip
        """The local ports of the outbound sockets by source address: one C-speed pass per
        source when a buffer has few (the usual case), else pair by pair."""
        out_src = list(compress(zip(fam, srcs, strict=False), outbound))
        distinct = set(out_src)
        if len(distinct) <= _FEW_PIDS:
            out_ports = list(compress(sports, outbound))
            for f, src in distinct:
                mine = map(operator.eq, out_src, repeat((f, src)))
                self.src_ports[(f, tag, src)].update(compress(out_ports, mine))
            return
        for (f, src), sport in set(zip(out_src, compress(sports, outbound), strict=True)):
            self.src_ports[(f, tag, src)].add(sport)

    def _attribute_rows(
        self, made_by: dict[int, int], is_tw: list[bool], outbound: list[bool],
        tkeys: list[tuple[Any, ...]], cookies: Cookies,
    ) -> None:  # fmt: skip
        """The makers of the TIME_WAITs among full rows/columns, by cookie."""
        tw_pids = list(map(made_by.get, cookies(is_tw)))
        self.counts.tw_attributed += len(tw_pids) - tw_pids.count(None)
        out_tw = list(map(operator.and_, is_tw, outbound))
        pids_out = list(map(made_by.get, cookies(out_tw)))
        self.tuples_pids.update(_attributed(compress(tkeys, out_tw), pids_out))

    def _add_tw_columns(
        self, is_tw: list[bool], outbound: list[bool], tkeys: list[tuple[Any, ...]],
        expires: Sequence[int],
    ) -> None:  # fmt: skip
        """The TIME_WAITs among full rows/columns: churn window and reuse age per port tuple."""
        thr = self.threshold_ms
        self.counts.recent_tw += sum(map(thr.__lt__, compress(expires, is_tw)))
        out_tw = list(compress(is_tw, outbound))
        tw_keys = list(compress(compress(tkeys, outbound), out_tw))
        exp = list(compress(compress(expires, outbound), out_tw))
        self.tuples_recent.update(compress(tw_keys, map(thr.__lt__, exp)))
        self.tuples_young.update(compress(tw_keys, map(self.young_ms.__lt__, exp)))

    def _note_unowned(self, states: Sequence[int], inodes: Sequence[int], pids: list[Any]) -> None:
        """Remember the inodes of sockets no known process holds (CLOSE_WAITs apart)."""
        counts = self.counts
        unknown = list(map(operator.not_, pids))
        counts.unowned.update(compress(inodes, unknown))
        counts.unowned.discard(0)
        cw = compress(zip(states, inodes, strict=True), unknown)
        counts.unowned_cw.update(i for s, i in cw if s == CLOSE_WAIT and i)

    # -- the fast path: TIME_WAIT buffers, keys only -----------------------------------------
    # A buffer of one family is unpacked to 1-tuples of key bytes; a mixed one to (family, bytes).
    # Counters are kept per layout and turned into canonical keys in ``finish`` (few keys).
    def add_tw_any(self, buf: bytes, length: int) -> None:
        """Aggregate a uniform buffer of TIME_WAIT messages of either direction.

        The direction is the local port: a C-speed membership test of every message's sport
        against the listening ports, refined for address-specific listeners on the hits only.
        Single-direction buffers (the usual case) go straight to ``add_tw``; mixed ones are split.
        """
        lst = self.listeners
        if not any_port(buf, length, lst.port_bytes):
            self.add_tw(buf, length, inbound=False)  # the usual case: no listening port here
            return
        sports = memoryview(buf).cast("H")[_H_SPORT :: length // 2].tolist()
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
        fams = buf[wire.OFF_FAMILY :: length]
        if select is not None:
            fams = bytes(compress(fams, select))
        n = len(fams)
        v6 = fams.count(AF_INET6)
        layout = "v4" if v6 == 0 else "v6" if v6 == n else "mix"
        counts = self.counts
        if v6 != n:
            counts.families[AF_INET] += n - v6
        if v6:
            counts.families[AF_INET6] += v6
        counts.states[TW] += n
        thr = self.threshold_ms.__lt__
        young = self.young_ms.__lt__
        mv = memoryview(buf).cast("I")
        exp = mv[_W_EXPIRES :: length // 4].tolist()
        pids = None if self.made_by is None else self._tw_pids(mv, length // 4, select)
        ifs = mv[_W_IF :: length // 4]
        if ifs.tobytes().count(0) != len(ifs) * 4:  # bound to a device: see ports.py
            devs = ifs.tolist() if select is None else list(compress(ifs.tolist(), select))
            counts.tw_bound_dev += len(devs) - devs.count(0)
        if select is not None:
            exp = list(compress(exp, select))
        elif layout == "v4" and not inbound and _same_bytes(buf, length, n, _HEAD):
            # Every message has the same dport and source address (the usual case: one client
            # address talking to one service port): count destination addresses as ints.
            head = bytes(buf[_HEAD])
            sports = memoryview(buf).cast("H")[_H_SPORT :: length // 2]
            self.src_port_bytes[(AF_INET, "v4", mv[_W_SRC])] += sports.tobytes()
            dsts = mv[_W_DST :: length // 4].tolist()
            self.tw_dsts[head].update(dsts)
            recent_dsts = list(compress(dsts, map(thr, exp)))
            self.tw_dsts_recent[head].update(recent_dsts)
            self.tw_dsts_young[head].update(compress(dsts, map(young, exp)))
            counts.recent_tw += len(recent_dsts)
            if pids is not None:
                _count_by_pid(lambda pid: self.tw_dst_pids[(head, pid)], dsts, pids)
            return
        if not inbound:
            self._tw_src_ports(buf, length, select)
        keys = list(_tw_struct(layout, inbound, length).iter_unpack(buf))
        if select is not None:
            keys = list(compress(keys, select))
        self.tw_keys[(layout, inbound)].update(keys)
        recent = list(compress(keys, map(thr, exp)))
        counts.recent_tw += len(recent)
        if not inbound:
            self.tw_recent[layout].update(recent)
            self.tw_young[layout].update(compress(keys, map(young, exp)))
            if pids is not None:
                _count_by_pid(lambda pid: self.tw_key_pids[(layout, pid)], keys, pids)

    def _tw_pids(self, mv: memoryview, words: int, select: list[bool] | None) -> list[Any] | None:
        """The pid that made each TIME_WAIT of a buffer (None where unknown), found by cookie in
        the memory of sockets seen live; None when not one is known. Counts the attributed."""
        made_by = self.made_by
        assert made_by is not None
        cookies = mv[_W_COOKIE::words].tolist()
        hi = mv[_W_COOKIE + 1 :: words]
        if hi.tobytes().count(0) != len(hi) * 4:  # cookies above 2**32: combine the words
            his = map(operator.lshift, hi.tolist(), repeat(32, len(cookies)))
            cookies = list(map(operator.or_, cookies, his))
        pids = list(map(made_by.get, cookies if select is None else compress(cookies, select)))
        found = len(pids) - pids.count(None)
        self.counts.tw_attributed += found
        return pids if found else None

    def _tw_src_ports(self, buf: bytes, length: int, select: list[bool] | None) -> None:
        """The local ports of outbound TIME_WAITs by source address (the bind() view), for
        buffers of several sources (one source takes the byte path in ``add_tw``)."""
        sports = memoryview(buf).cast("H")[_H_SPORT :: length // 2].tolist()
        srcs = [t[0] for t in _src_struct(length).iter_unpack(buf)]
        pairs = zip(buf[wire.OFF_FAMILY :: length], srcs, sports, strict=True)
        for f, src, sport in set(pairs if select is None else compress(pairs, select)):
            self.src_ports[(f, "row", src)].add(sport)

    # -- canonical keys --------------------------------------------------------------------------
    def finish(self) -> Counts:
        """Fold the path-shaped counters into canonical keys; return the Counts."""
        self._fold_sockets()
        self._fold_time_waits()
        self.sockets_by_key.clear()
        self.tw_keys.clear()
        self.tw_recent.clear()
        self.tw_young.clear()
        self.tw_dsts.clear()
        self.tw_dsts_recent.clear()
        self.tw_dsts_young.clear()
        self.src_ports.clear()
        self.src_port_bytes.clear()
        self.tw_key_pids.clear()
        self.tw_dst_pids.clear()
        self.tuples_pids.clear()
        self.counts.tw_counted = self.counts.states[TW]
        return self.counts

    def _canon(self, family: int, tag: str, addr: Any) -> tuple[int, bytes]:
        """(family, canonical bytes) of an address as a path carries it (cached: few peers)."""
        k = (family, tag, addr)
        got = self._addr.get(k)
        if got is None:
            raw = addr.to_bytes(4, sys.byteorder) if tag == "v4" else addr
            got = self._addr[k] = canonical_addr(family, raw)
        return got

    def _peer_key(self, fam: int, tag: str, dst: Any, pa: int, pb: int, pid: int | None) -> PeerKey:
        group = self.group
        if group == "ip":
            return PeerKey("ip", *self._canon(fam, tag, dst))
        if group == "ipport":
            return PeerKey("ipport", *self._canon(fam, tag, dst), port=wire.port(pa))
        if group == "lport":
            return PeerKey("lport", port=wire.port(pb))
        return PeerKey("process", pid=NO_OWNER if pid is None else pid)

    def _tuple_key(self, fam: int, tag: str, src: Any, dst: Any, dport: int) -> TupleKey:
        family, d = self._canon(fam, tag, dst)
        return TupleKey(family, self._canon(fam, tag, src)[1], d, dport)

    def _fold_sockets(self) -> None:
        counts = self.counts
        peer_keys: dict[tuple[Any, ...], PeerKey] = {}
        for skey, c in self.sockets_by_key.items():
            fam, tag, st, is_in, src, dst, pa, pb, pid = skey
            gk = (fam, tag, dst, pa, pb, pid)
            key = peer_keys.get(gk)
            if key is None:
                key = peer_keys[gk] = self._peer_key(fam, tag, dst, pa, pb, pid)
            if st != LISTEN:  # listeners are not peers: they have their own view
                counts.groups[(key, st, is_in)] += c
                if pid is not None:
                    counts.peer_pids[(key, pid)] += c
            if pid is not None:
                counts.procs[(pid, st)] += c
            if not is_in:
                tkey = self._tuple_key(fam, tag, src, dst, wire.port(pa))
                counts.tuples[tkey] += c
                if st == TW:
                    counts.tuples_tw[tkey] += c
                elif pid is not None:  # a tuple's live sockets name their processes
                    counts.tuple_pids[(tkey, pid)] += c
            elif st == TW:
                counts.tw_in_ports[wire.port(pb)] += c
        for (fam, tag, src, dst, pa), c in self.tuples_recent.items():
            counts.tuples_recent[self._tuple_key(fam, tag, src, dst, wire.port(pa))] += c
        for (fam, tag, src, dst, pa), c in self.tuples_young.items():
            counts.tuples_young[self._tuple_key(fam, tag, src, dst, wire.port(pa))] += c
        for ((fam, tag, src, dst, pa), pid), c in self.tuples_pids.items():
            tkey = self._tuple_key(fam, tag, src, dst, wire.port(pa))
            counts.tuples_tw_pids[(tkey, pid)] += c
        for (fam, tag, src), raw_ports in self.src_ports.items():
            held = counts.src_ports.setdefault(self._canon(fam, tag, src), set())
            held.update(_ports_of(array("H", raw_ports)))
        for (fam, tag, src), raw in self.src_port_bytes.items():
            held = counts.src_ports.setdefault(self._canon(fam, tag, src), set())
            held.update(_ports_of(array("H", raw)))

    def _fold_time_waits(self) -> None:
        for (layout, inbound), per_key in self.tw_keys.items():
            for t, c in per_key.items():
                self._add_tw_key(*_tw_parts(layout, t), c, inbound, "all")
        for kind, by_layout in (("recent", self.tw_recent), ("young", self.tw_young)):
            for layout, per_key in by_layout.items():
                for t, c in per_key.items():
                    self._add_tw_key(*_tw_parts(layout, t), c, False, kind)
        by_kind = (("all", self.tw_dsts), ("recent", self.tw_dsts_recent),
                   ("young", self.tw_dsts_young))  # fmt: skip
        for kind, by_head in by_kind:
            for head, per_dst in by_head.items():
                port, src = head[:2], head[2:] + _PAD_V4
                for dst_word, c in per_dst.items():
                    dst = dst_word.to_bytes(4, sys.byteorder)
                    self._add_tw_key(AF_INET, port, src, dst, c, False, kind)
        self._fold_tw_pids()

    def _fold_tw_pids(self) -> None:
        """The attributed outbound TIME_WAITs of the fast path, per canonical tuple and pid."""
        out = self.counts.tuples_tw_pids
        for (layout, pid), per_key in self.tw_key_pids.items():
            for t, c in per_key.items():
                fam, port, src, dst = _tw_parts(layout, t)
                out[(self._fast_tuple_key(fam, port, src, dst), pid)] += c
        for (head, pid), per_dst in self.tw_dst_pids.items():
            port, src = head[:2], head[2:] + _PAD_V4
            for dst_word, c in per_dst.items():
                dst = dst_word.to_bytes(4, sys.byteorder)
                out[(self._fast_tuple_key(AF_INET, port, src, dst), pid)] += c

    @staticmethod
    def _fast_tuple_key(fam: int, port: bytes, src: bytes, dst: bytes) -> TupleKey:
        family, d = canonical_addr(fam, dst + bytes(wire.ADDR_LEN - len(dst)))
        return TupleKey(family, canonical_addr(fam, src)[1], d, int.from_bytes(port, "big"))

    def _add_tw_key(
        self, fam: int, port: bytes, src: bytes, dst: bytes, c: int, inbound: bool, kind: str
    ) -> None:
        """Count ``c`` TIME_WAITs of one fast-path key: (local port if inbound, else remote port),
        16-byte source, destination (4 bytes for IPv4); ``kind``: all of them, or only those in
        the churn window ("recent") or younger than tcp_tw_reuse_delay ("young")."""
        counts = self.counts
        tkey = self._fast_tuple_key(fam, port, src, dst)
        family, d = tkey.family, tkey.dst
        if kind != "all":
            (counts.tuples_recent if kind == "recent" else counts.tuples_young)[tkey] += c
            return
        if self.group == "process":
            key = PeerKey("process", pid=NO_OWNER)  # TIME_WAITs have no owner
        else:
            key = PeerKey("ip", family, d)
        counts.groups[(key, TW, inbound)] += c
        if inbound:  # the port is the local one (_tw_struct): the service's
            counts.tw_in_ports[int.from_bytes(port, "big")] += c
        else:
            counts.tuples[tkey] += c
            counts.tuples_tw[tkey] += c


_tw_structs: dict[tuple[str, bool, int], struct.Struct] = {}


def _tw_struct(layout: str, inbound: bool, length: int) -> struct.Struct:
    """Key layout of a TIME_WAIT message: the service port, then src and dst addresses.

    Outbound: dport, src, dst (contiguous in the sockid). Inbound: sport, then src and dst,
    skipping the peer's ephemeral dport. IPv4 addresses use the first 4 of their 16 bytes;
    "mix" buffers lead with the family.
    """
    k = (layout, inbound, length)
    s = _tw_structs.get(k)
    if s is None:
        dlen = 4 if layout == "v4" else wire.ADDR_LEN
        fields = [(wire.OFF_FAMILY, "B")] if layout == "mix" else []
        if inbound:
            fields += [(wire.OFF_SPORT, "2s"), (wire.OFF_SRC, f"{wire.ADDR_LEN + dlen}s")]
        else:
            fields += [(wire.OFF_DPORT, f"{2 + wire.ADDR_LEN + dlen}s")]
        s = _tw_structs[k] = struct.Struct(wire.layout(fields, length))
    return s


def _tw_parts(layout: str, t: tuple[Any, ...]) -> tuple[int, bytes, bytes, bytes]:
    """(family, port bytes, 16-byte src, dst) of a key unpacked by ``_tw_struct``."""
    if layout == "mix":
        fam, *parts = t
    else:
        fam, parts = (AF_INET if layout == "v4" else AF_INET6), list(t)
    kb = b"".join(parts)
    return fam, kb[:2], kb[2 : 2 + wire.ADDR_LEN], kb[2 + wire.ADDR_LEN :]


#: Listening ports up to which ``any_port`` searches byte by byte; above, map() is cheaper.
_PORT_SEARCH_MAX = 16


def any_port(buf: bytes, length: int, ports: list[bytes]) -> bool:
    """Whether any message's local port is one of ``ports`` (2-byte wire form).

    ``bytes.find`` on the strided first bytes visits only candidate messages (about 1 in 256 per
    port for ephemeral ports), so a buffer with no listening port is cleared at C speed.
    """
    if len(ports) > _PORT_SEARCH_MAX:
        return True  # let the caller test every message
    if not ports:
        return False
    firsts = buf[wire.OFF_SPORT :: length]
    for p in ports:
        i = firsts.find(p[0])
        while i != -1:
            if buf[wire.OFF_SPORT + 1 + i * length] == p[1]:
                return True
            i = firsts.find(p[0], i + 1)
    return False


#: Up to this many distinct makers in one buffer, each is counted at C speed (one pass each).
_FEW_PIDS = 8


def _count_by_pid(into: Callable[[int], Counter[Any]], keys: list[Any], pids: list[Any]) -> None:
    """Count ``keys`` per known pid (``pids`` aligned, None: unknown) into ``into(pid)``.

    Usually one process made a whole buffer: one C-speed Counter pass, no pairs built."""
    first = pids[0]
    if first is not None and pids.count(first) == len(pids):
        into(first).update(keys)
        return
    distinct = set(pids)
    distinct.discard(None)
    if len(distinct) <= _FEW_PIDS:
        for pid in distinct:
            # operator.eq, not pid.__eq__: int.__eq__(None) is NotImplemented, which is truthy
            into(pid).update(compress(keys, map(operator.eq, pids, repeat(pid))))
        return
    for key, pid in _attributed(keys, pids):
        into(pid)[key] += 1


def _attributed(keys: Iterable[Any], pids: list[Any]) -> Iterator[tuple[Any, Any]]:
    """(key, pid) of the messages whose pid is known (C-speed selection)."""
    known = list(map(operator.truth, pids))
    return zip(compress(keys, known), compress(pids, known), strict=False)


def _addr_struct(length: int) -> struct.Struct:
    """The 16-byte source and destination addresses of every message of a uniform buffer."""
    k = ("addr", False, length)
    s = _tw_structs.get(k)
    if s is None:
        a = f"{wire.ADDR_LEN}s"
        s = _tw_structs[k] = struct.Struct(
            wire.layout([(wire.OFF_SRC, a), (wire.OFF_DST, a)], length)
        )
    return s


def _src_struct(length: int) -> struct.Struct:
    """The 16-byte source address of every message of a uniform buffer."""
    k = ("src", False, length)
    s = _tw_structs.get(k)
    if s is None:
        s = _tw_structs[k] = struct.Struct(
            wire.layout([(wire.OFF_SRC, f"{wire.ADDR_LEN}s")], length)
        )
    return s


def _ports_of(raw: array[int]) -> array[int]:
    """Port numbers of raw ports (big-endian wire bytes read native), byte-swapped at C speed."""
    if sys.byteorder == "little":
        raw.byteswap()
    return raw


def _same_bytes(buf: bytes, length: int, n: int, span: slice) -> bool:
    """Whether the bytes of ``span`` are identical in all ``n`` messages of a uniform buffer."""
    return all(buf[i::length] == buf[i : i + 1] * n for i in range(span.start, span.stop))
