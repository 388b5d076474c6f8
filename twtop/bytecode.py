"""INET_DIAG_REQ_BYTECODE: a filter program the kernel runs on every socket before reporting it.

Semantics (net/ipv4/inet_diag.c, inet_diag_bc_run / inet_diag_bc_audit): a program is a list of ops
``{u8 code, u8 yes, u16 no}``; a true condition advances by ``yes`` (always to the next op here), a
false one jumps ``no`` bytes forward. Running off the end exactly accepts the socket; landing 4
bytes past the end rejects it. Ports compare in host order; host conditions match a prefix of the
address, and an IPv4 condition also matches IPv4-mapped IPv6 sockets.

Programs are built bottom-up the way `ss` builds them: every sub-program rejects by jumping to its
own end + 4, and AND / OR / NOT relocate those jumps."""

from __future__ import annotations

import socket
import struct

NOP, JMP, S_GE, S_LE, D_GE, D_LE, AUTO, S_COND, D_COND = range(9)
S_EQ, D_EQ = 11, 12

_OP = struct.Struct("=BBH")
_HOSTCOND = struct.Struct("=BBxxi")


def port_cmp(code: int, port: int) -> bytes:
    """One port comparison (S_GE, S_LE, S_EQ, D_GE, D_LE, D_EQ) against ``port`` (host order)."""
    if not 0 <= port <= 0xFFFF:
        raise ValueError(f"port {port} out of range")
    return _OP.pack(code, 8, 12) + _OP.pack(0, 0, port)


def hostcond(code: int, family: int, addr: bytes, prefix: int, port: int = -1) -> bytes:
    """S_COND / D_COND: address prefix match (family AF_UNSPEC with no address: port only)."""
    size = 4 + _HOSTCOND.size + len(addr)
    return _OP.pack(code, size, size + 4) + _HOSTCOND.pack(family, prefix, port) + addr


def port_only(code: int, port: int) -> bytes:
    """S_COND / D_COND on the port alone (any address, any family)."""
    return hostcond(code, socket.AF_UNSPEC, b"", 0, port)


def _ops(prog: bytes) -> list[int]:
    """Offsets of the ops of a program (walking by ``yes``)."""
    out = []
    off = 0
    while off < len(prog):
        out.append(off)
        _code, yes, _no = _OP.unpack_from(prog, off)
        off += yes
    return out


def _relocate_rejects(prog: bytes, extra: int) -> bytes:
    buf = bytearray(prog)
    n = len(prog)
    for off in _ops(prog):
        code, yes, no = _OP.unpack_from(buf, off)
        if no == n - off + 4:
            _OP.pack_into(buf, off, code, yes, no + extra)
    return bytes(buf)


def all_of(*progs: bytes) -> bytes:
    """A program that accepts when every sub-program accepts (empty: accept everything)."""
    progs = tuple(p for p in progs if p)
    if not progs:
        return b""
    out = progs[-1]
    for prog in reversed(progs[:-1]):
        out = _relocate_rejects(prog, len(out)) + out
    return out


def any_of(*progs: bytes) -> bytes:
    """A program that accepts when at least one sub-program accepts."""
    if not progs:
        return negate(b"")  # nothing accepts
    if any(not p for p in progs):
        return b""  # an empty program accepts everything
    out = progs[-1]
    for prog in reversed(progs[:-1]):
        out = prog + _OP.pack(JMP, 4, len(out) + 4) + out
    return out


def negate(prog: bytes) -> bytes:
    """A program that accepts exactly what ``prog`` rejects."""
    return prog + _OP.pack(JMP, 4, 8)


def run(prog: bytes, family: int, saddr: bytes, sport: int, daddr: bytes, dport: int) -> bool:
    """Evaluate a program in Python exactly as the kernel would (tests, listeners, fallbacks)."""
    off = 0
    n = len(prog)
    while off < n:
        code, yes, no = _OP.unpack_from(prog, off)
        ok = True
        if code == JMP:
            ok = False
        elif code in (S_GE, S_LE, S_EQ, D_GE, D_LE, D_EQ):
            ref = _OP.unpack_from(prog, off + 4)[2]
            val = sport if code in (S_GE, S_LE, S_EQ) else dport
            ok = {S_GE: val >= ref, D_GE: val >= ref, S_LE: val <= ref, D_LE: val <= ref}.get(
                code, val == ref
            )
        elif code in (S_COND, D_COND):
            cfam, plen, cport = _HOSTCOND.unpack_from(prog, off + 4)
            addr = saddr if code == S_COND else daddr
            val = sport if code == S_COND else dport
            alen = {socket.AF_INET: 4, socket.AF_INET6: 16}.get(cfam, 0)
            caddr = prog[off + 12 : off + 12 + alen]
            if cport != -1 and cport != val:
                ok = False
            elif cfam != socket.AF_UNSPEC and cfam != family:
                ok = (
                    family == socket.AF_INET6
                    and cfam == socket.AF_INET
                    and addr[:12] == b"\0" * 10 + b"\xff\xff"
                    and _prefix_match(addr[12:16], caddr, plen)
                )
            elif plen:
                ok = _prefix_match(addr, caddr, plen)
        off += yes if ok else no
    return off == n


def _prefix_match(addr: bytes, ref: bytes, plen: int) -> bool:
    full, rest = divmod(plen, 8)
    if addr[:full] != ref[:full]:
        return False
    if rest:
        mask = (0xFF << (8 - rest)) & 0xFF
        return (addr[full] & mask) == (ref[full] & mask)
    return True
