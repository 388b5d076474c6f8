"""The filter language (ss-like) and its compilation to a kernel state mask + bytecode.

    state time-wait
    state established,close-wait and dport = :443
    dst 10.0.0.0/8 and not (sport >= 1024 or src [::1])

Terms: ``state NAME[,NAME...]`` (ss spellings, TIME_WAIT style, or the groups connected,
synchronized, bucket, big, all), ``src``/``dst`` ADDR (IPv4, CIDR, ``[v6]``, ``[v6]/len``, an
optional ``:PORT``, ``*``), ``sport``/``dport`` OP PORT with OP one of ``= == != < <= > >=`` (or eq
ne lt le gt ge; default ``=``) and PORT as ``80`` or ``:80``. Combine with ``and`` (or
juxtaposition), ``or``, ``not``/``!`` and parentheses. A filter whose state terms all sit in the
top-level conjunction runs entirely in the kernel; any other runs its state part in Python."""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass

from twtop import bytecode as bc
from twtop.errors import UsageError
from twtop.states import MASK_ALL, STATE_GROUPS, TcpState, mask_of, parse_state


@dataclass(frozen=True)
class Token:
    """A word of the filter with its 1-based column."""

    text: str
    col: int


@dataclass(frozen=True)
class State:
    """``state a,b``."""

    states: frozenset[TcpState]


@dataclass(frozen=True)
class Host:
    """``src``/``dst`` address prefix, optionally with a port."""

    side: str  # "src" | "dst"
    family: int  # AF_INET, AF_INET6, AF_UNSPEC (``*``)
    addr: bytes
    prefix: int
    port: int | None


@dataclass(frozen=True)
class Port:
    """``sport``/``dport`` comparison."""

    side: str
    op: str  # one of = != < <= > >=
    port: int


@dataclass(frozen=True)
class And:
    """Both."""

    left: Node
    right: Node


@dataclass(frozen=True)
class Or:
    """Either."""

    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    """Negation."""

    inner: Node


Node = State | Host | Port | And | Or | Not

_TOKEN = re.compile(r"\s*(\(|\)|!=|==|<=|>=|<|>|=|!|\[[^\]]*\](?:/\d+)?(?::\d+)?|[^\s()!=<>]+)")
_OPS = {
    "=": "=", "==": "=", "eq": "=", "!=": "!=", "ne": "!=", "neq": "!=",
    "<": "<", "lt": "<", "<=": "<=", "le": "<=", ">": ">", "gt": ">", ">=": ">=", "ge": ">=",
}  # fmt: skip
_KEYWORDS = {"and", "or", "not", "state", "src", "dst", "sport", "dport", "&&", "||"}


class FilterError(UsageError):
    """A filter that does not parse; the message points at the offending token."""

    def __init__(self, expr: str, col: int, what: str) -> None:
        self.expr = expr
        self.col = col
        self.what = what
        super().__init__(f"filter: {what} at column {col}")

    def caret(self) -> str:
        """The expression with a caret under the offending column."""
        return f"  {self.expr}\n  {' ' * (self.col - 1)}^"


def tokenize(expr: str) -> list[Token]:
    """Split a filter into tokens, keeping columns for error messages."""
    out = []
    pos = 0
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        m = _TOKEN.match(expr, pos)
        if not m or not m.group(1):
            raise FilterError(expr, pos + 1, "unexpected character")
        out.append(Token(m.group(1), m.start(1) + 1))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.toks = tokenize(expr)
        self.i = 0

    def peek(self) -> Token | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise FilterError(self.expr, len(self.expr) + 1, "unexpected end of filter")
        self.i += 1
        return tok

    def fail(self, tok: Token, what: str) -> FilterError:
        return FilterError(self.expr, tok.col, f"{what}: '{tok.text}'")

    def parse(self) -> Node:
        if not self.toks:
            raise FilterError(self.expr, 1, "empty filter")
        node = self.parse_or()
        tok = self.peek()
        if tok is not None:
            raise self.fail(tok, "unexpected token")
        return node

    def parse_or(self) -> Node:
        node = self.parse_and()
        while (tok := self.peek()) is not None and tok.text.lower() in ("or", "||"):
            self.take()
            node = Or(node, self.parse_and())
        return node

    def parse_and(self) -> Node:
        node = self.parse_not()
        while (
            (tok := self.peek()) is not None
            and tok.text != ")"
            and tok.text.lower()
            not in (
                "or",
                "||",
            )
        ):
            if tok.text.lower() in ("and", "&&"):
                self.take()
            node = And(node, self.parse_not())
        return node

    def parse_not(self) -> Node:
        tok = self.peek()
        if tok is not None and tok.text.lower() in ("not", "!"):
            self.take()
            return Not(self.parse_not())
        return self.parse_atom()

    def parse_atom(self) -> Node:
        tok = self.take()
        word = tok.text.lower()
        if tok.text == "(":
            node = self.parse_or()
            close = self.peek()
            if close is None or close.text != ")":
                raise FilterError(
                    self.expr, close.col if close else len(self.expr) + 1, "expected ')'"
                )
            self.take()
            return node
        if word == "state":
            return self.parse_states()
        if word in ("src", "dst"):
            return self.parse_host(word)
        if word in ("sport", "dport"):
            return self.parse_port(word)
        raise self.fail(tok, "expected state, src, dst, sport, dport, not or '('")

    def parse_states(self) -> State:
        tok = self.take()
        states: set[TcpState] = set()
        col = tok.col
        for word in tok.text.split(","):
            if not word:
                raise FilterError(self.expr, col, "empty state name")
            group = STATE_GROUPS.get(word.lower())
            state = parse_state(word)
            if group is not None:
                states |= group
            elif state is not None:
                states.add(state)
            else:
                raise FilterError(self.expr, col, f"unknown state: '{word}'")
            col += len(word) + 1
        return State(frozenset(states))

    def parse_host(self, side: str) -> Host:
        tok = self.take()
        text = tok.text
        if text.lower() in _KEYWORDS or text in ("(", ")"):
            raise self.fail(tok, "expected an address")
        port: int | None = None
        if text.startswith("["):
            inner, _, rest = text[1:].partition("]")
            prefix_txt = ""
            if rest.startswith("/"):
                prefix_txt, _, rest = rest[1:].partition(":")
                rest = ":" + rest if rest else ""
            if rest.startswith(":"):
                port = self.port_number(tok, rest[1:])
            addr_txt = inner + (f"/{prefix_txt}" if prefix_txt else "")
        elif text.count(":") == 1 or text.startswith("*:"):
            addr_txt, _, ptxt = text.rpartition(":")
            port = self.port_number(tok, ptxt)
        else:
            addr_txt = text
        if addr_txt in ("*", ""):
            return Host(side, socket.AF_UNSPEC, b"", 0, port)
        try:
            net = ipaddress.ip_network(addr_txt, strict=False)
        except ValueError:
            raise self.fail(tok, "not an address or prefix") from None
        fam = socket.AF_INET if net.version == 4 else socket.AF_INET6
        return Host(side, fam, net.network_address.packed, net.prefixlen, port)

    def port_number(self, tok: Token, text: str) -> int:
        text = text.lstrip(":")
        if not text.isdigit() or not 0 <= int(text) <= 65535:
            raise self.fail(tok, "not a port number (0-65535)")
        return int(text)

    def parse_port(self, side: str) -> Port:
        tok = self.take()
        op = _OPS.get(tok.text.lower())
        if op is None:
            op = "="
        else:
            tok = self.take()
        return Port(side, op, self.port_number(tok, tok.text))


def parse(expr: str) -> Node:
    """Parse a filter expression; raise FilterError pointing at the bad token."""
    return _Parser(expr).parse()


# --- compilation -------------------------------------------------------------------------------


def _has_state(node: Node) -> bool:
    if isinstance(node, State):
        return True
    if isinstance(node, And | Or):
        return _has_state(node.left) or _has_state(node.right)
    if isinstance(node, Not):
        return _has_state(node.inner)
    return False


def _conjuncts(node: Node) -> list[Node]:
    if isinstance(node, And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def to_bytecode(node: Node) -> bytes:
    """Compile a state-free filter to INET_DIAG bytecode."""
    if isinstance(node, And):
        return bc.all_of(to_bytecode(node.left), to_bytecode(node.right))
    if isinstance(node, Or):
        return bc.any_of(to_bytecode(node.left), to_bytecode(node.right))
    if isinstance(node, Not):
        return bc.negate(to_bytecode(node.inner))
    if isinstance(node, Host):
        code = bc.S_COND if node.side == "src" else bc.D_COND
        port = -1 if node.port is None else node.port
        return bc.hostcond(code, node.family, node.addr, node.prefix, port)
    if isinstance(node, Port):
        src = node.side == "sport"
        never = bc.negate(b"")
        if node.op == "=":
            return bc.port_only(bc.S_COND if src else bc.D_COND, node.port)
        if node.op == "!=":
            return bc.negate(bc.port_only(bc.S_COND if src else bc.D_COND, node.port))
        if node.op == ">=":
            return bc.port_cmp(bc.S_GE if src else bc.D_GE, node.port)
        if node.op == "<=":
            return bc.port_cmp(bc.S_LE if src else bc.D_LE, node.port)
        if node.op == ">":
            p = node.port + 1
            return never if p > 0xFFFF else bc.port_cmp(bc.S_GE if src else bc.D_GE, p)
        if node.op == "<":
            p = node.port - 1
            return never if p < 0 else bc.port_cmp(bc.S_LE if src else bc.D_LE, p)
    raise TypeError(f"cannot compile {node!r} to bytecode")


@dataclass(frozen=True)
class Plan:
    """How a filter runs: kernel state mask and bytecode, plus a Python check when needed."""

    text: str | None
    mask: int
    bytecode: bytes
    node: Node | None  # evaluate in Python too (state terms the kernel cannot express)

    @property
    def in_kernel(self) -> bool:
        """True when the kernel applies the whole filter."""
        return self.node is None

    def accepts_state(self, state: TcpState) -> bool:
        """Whether the kernel mask lets ``state`` through (the Python part may still reject)."""
        return bool(self.mask & (1 << state))


def compile_filter(expr: str | None) -> Plan:
    """Parse and plan a filter (None or blank: everything)."""
    if expr is None or not expr.strip():
        return Plan(None, MASK_ALL, b"", None)
    node = parse(expr)
    conj = _conjuncts(node)
    states = [n for n in conj if isinstance(n, State)]
    rest = [n for n in conj if not isinstance(n, State)]
    if any(_has_state(n) for n in rest):
        # A state test under or/not: the kernel mask cannot say it; run the whole thing in Python,
        # but still let the kernel drop what the top-level state terms exclude.
        mask = MASK_ALL
        for s in states:
            mask &= mask_of(s.states)
        return Plan(expr, mask, b"", node)
    mask = MASK_ALL
    for s in states:
        mask &= mask_of(s.states)
    prog = b""
    for n in rest:
        prog = bc.all_of(prog, to_bytecode(n))
    return Plan(expr, mask, prog, None)


def evaluate(
    node: Node, family: int, state: int, saddr: bytes, sport: int, daddr: bytes, dport: int
) -> bool:
    """Evaluate a filter on one socket in Python (kernel semantics for addresses and ports)."""
    if isinstance(node, And):
        return evaluate(node.left, family, state, saddr, sport, daddr, dport) and evaluate(
            node.right, family, state, saddr, sport, daddr, dport
        )
    if isinstance(node, Or):
        return evaluate(node.left, family, state, saddr, sport, daddr, dport) or evaluate(
            node.right, family, state, saddr, sport, daddr, dport
        )
    if isinstance(node, Not):
        return not evaluate(node.inner, family, state, saddr, sport, daddr, dport)
    if isinstance(node, State):
        return state in node.states
    return bc.run(to_bytecode(node), family, saddr, sport, daddr, dport)
