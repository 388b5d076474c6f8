"""The filter language (ss-like) and its compilation to a kernel state mask + bytecode.

    state time-wait
    state established state close-wait dport = :443
    dst 10.0.0.0/8 and not (sport >= 1024 or src [::1])

Terms: ``state NAME[,NAME...]`` (ss spellings, TIME_WAIT style, or the groups connected,
synchronized, bucket, big, all), ``src``/``dst`` ADDR (IPv4, CIDR, ``[v6]``, ``[v6]/len``, an
optional ``:PORT``, ``*``), ``sport``/``dport`` OP PORT with OP one of ``= == != < <= > >=`` (or eq
ne lt le gt ge; default ``=``) and PORT as ``80`` or ``:80``. Combine with ``and``/``&``/``&&`` (or
juxtaposition), ``or``/``|``/``||``, ``not``/``!`` and parentheses.

Read as ss reads it: ``and`` and ``or`` have the same precedence and apply left to right
(``a and b or c`` is ``(a and b) or c``; ``a or b and c`` is ``(a or b) and c``; a note says so
when a filter mixes them without parentheses); ``not`` applies to the next term. Repeated state
words are a union (``state established state time-wait``), and state words at the start apply to
the whole rest (ss's STATE-FILTER before its EXPRESSION). Length, terms, nesting and the kernel
bytecode size are bounded (MAX_*), checked before the work they bound.

A filter whose state terms all sit in the top-level conjunction runs entirely in the kernel; any
other runs its state part in Python."""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from dataclasses import dataclass

from twtop import bytecode as bc
from twtop.errors import UsageError
from twtop.knowledge_ui import UI_WORDS
from twtop.safe import sanitize
from twtop.states import MASK_ALL, SS_NAMES, STATE_GROUPS, TcpState, mask_of, parse_state


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

#: Limits checked before any work, so a pasted or hostile filter cannot stall or crash twtop.
MAX_LENGTH = 32768  # characters
MAX_TERMS = 512  # state/src/dst/sport/dport terms
MAX_DEPTH = 64  # parentheses and not's nested in one another
#: The kernel's bytecode attribute: its jump offsets and netlink length are u16, 4 bytes of
#: which are the attribute header (net/ipv4/inet_diag.c inet_diag_bc_audit).
MAX_BYTECODE = 0xFFFF - 4

_TOKEN = re.compile(
    r"\s*(\(|\)|\|\||&&|\||&|!=|==|<=|>=|<|>|=|!"
    r"|\[[^\]\s]*\](?:/[0-9]+)?(?::[0-9]+)?|[^\s()!=<>|&]+)|\s*\Z"
)
_PORT = re.compile(r":?([0-9]{1,5})")
_OPS = {
    "=": "=", "==": "=", "eq": "=", "!=": "!=", "ne": "!=", "neq": "!=",
    "<": "<", "lt": "<", "<=": "<=", "le": "<=", ">": ">", "gt": ">", ">=": ">=", "ge": ">=",
}  # fmt: skip
_AND = {"and", "&&", "&"}
_OR = {"or", "||", "|"}
_NOT = {"not", "!"}
_TERMS = {"state", "src", "dst", "sport", "dport"}
_KEYWORDS = _TERMS | _AND | _OR | _NOT


class FilterError(UsageError):
    """A filter that does not parse; the message points at the offending token.

    ``code`` and ``params`` say what is wrong in a form the UI translates (UI_WORDS
    ``filter_err_CODE``); ``str(exc)`` is the English text the CLI prints, made from the same
    table."""

    def __init__(
        self, expr: str, col: int, code: str, suggestion: str | None = None, **params: object
    ) -> None:
        self.expr = expr
        self.col = col
        self.code = code
        self.params = params
        self.what = self.describe("en")
        #: The nearest valid word when the user misspelled one (``time-wait`` for ``timewait``).
        self.suggestion = suggestion
        super().__init__(self.message("en"))

    def describe(self, lang: str = "en") -> str:
        """What is wrong, without the column: ``unknown state: 'x'``."""
        values = {k: sanitize(str(v), 200) for k, v in self.params.items()}
        return UI_WORDS[lang][f"filter_err_{self.code}"].format(**values)

    def message(self, lang: str = "en") -> str:
        """The whole message in ``lang``: what, where, and the suggestion if any."""
        words = UI_WORDS[lang]
        text = words["filter_err"].format(what=self.describe(lang), col=self.col)
        if self.suggestion:
            text += words["filter_err_hint"].format(hint=self.hint(lang))
        return text

    def hint(self, lang: str = "en") -> str:
        """``did you mean time-wait?`` in ``lang`` (empty when there is no suggestion)."""
        if not self.suggestion:
            return ""
        return UI_WORDS[lang]["did_you_mean"].format(word=self.suggestion)

    def caret(self) -> str:
        """The expression with a caret under the offending column (long ones cut around it)."""
        start = max(0, self.col - 60)
        shown = sanitize(self.expr[start : start + 120], 1000)
        pad = len(sanitize(self.expr[start : self.col - 1], 1000))
        lead = "…" if start else ""
        return f"  {lead}{shown}\n  {' ' * (pad + len(lead))}^"


def _distance(a: str, b: str) -> int:
    """Edit distance (insert, delete, substitute, swap two neighbours), bounded inputs."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            d = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                d = min(d, prev2[j - 2] + 1)
            cur.append(d)
        prev2, prev = prev, cur
    return prev[-1]


#: What a state may be spelled as, suggestions first in ss's spelling (time-wait), then twtop's
#: underscore form (time_wait) and ss's state groups.
_STATE_WORDS = (
    *SS_NAMES.values(),
    *(s.name.lower() for s in TcpState),
    *STATE_GROUPS,
)


def suggest_state(word: str) -> str | None:
    """The state name nearest to a misspelled ``word`` (``timewait`` -> ``time-wait``), None
    when nothing is close (at most a third of the word's letters off, and 3 edits)."""
    w = word.lower()[:40]
    if not w:
        return None
    # nearest first; on a tie, the spelling the user used (underscores, or ss's hyphens)
    best = min(_STATE_WORDS, key=lambda c: (_distance(w, c), ("_" in c) != ("_" in w)))
    return best if _distance(w, best) <= min(3, max(1, len(w) // 3)) else None


def tokenize(expr: str) -> list[Token]:
    """Split a filter into tokens, keeping columns for error messages (linear time)."""
    if len(expr) > MAX_LENGTH:
        raise FilterError(expr, MAX_LENGTH + 1, "too_long", max=MAX_LENGTH)
    out = []
    pos = 0
    n = len(expr)
    terms = 0
    while pos < n:
        m = _TOKEN.match(expr, pos)
        if m is None:
            raise FilterError(expr, pos + 1 + _lead(expr, pos), "bad_char")
        text = m.group(1)
        if text is None:  # only whitespace left
            break
        if text.lower() in _TERMS:
            terms += 1
            if terms > MAX_TERMS:  # refused before the rest is even read
                raise FilterError(expr, m.start(1) + 1, "too_many_terms", max=MAX_TERMS)
        out.append(Token(text, m.start(1) + 1))
        pos = m.end()
    return out


def _lead(expr: str, pos: int) -> int:
    return len(expr[pos:]) - len(expr[pos:].lstrip())


class _Parser:
    """Recursive descent with bounded depth; and/or/juxtaposition at one level, left to right."""

    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.toks = tokenize(expr)
        self.i = 0
        self.depth = 0
        self.notes: list[str] = []

    def peek(self) -> Token | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def word(self) -> str | None:
        tok = self.peek()
        return tok.text.lower() if tok is not None else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise FilterError(self.expr, len(self.expr) + 1, "end")
        self.i += 1
        return tok

    def fail(self, tok: Token, code: str, **params: object) -> FilterError:
        return FilterError(self.expr, tok.col, code, None, token=tok.text[:40], **params)

    def enter(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(tok, "too_deep", max=MAX_DEPTH)

    def parse(self) -> Node:
        if not self.toks:
            raise FilterError(self.expr, 1, "empty")
        node = self.parse_list(top=True)
        tok = self.peek()
        if tok is not None:
            raise self.fail(tok, "unexpected_token")
        return node

    def parse_list(self, top: bool = False) -> Node:
        """``term ((and|or|juxtaposition) term)*``, left to right as ss reads it.

        At the top, leading state terms are ss's STATE-FILTER: they apply to all the rest."""
        first = self.parse_term()
        if top and isinstance(first, State) and self.word() not in _OR and self.peek():
            if self.word() in _AND:
                self.take()
            return And(first, self.parse_list())
        node = first
        seen: dict[str, Token] = {}
        while (tok := self.peek()) is not None and tok.text != ")":
            word = tok.text.lower()
            kind = "or" if word in _OR else "and"
            if word in _OR or word in _AND:
                self.take()
            seen.setdefault(kind, tok)
            right = self.parse_term()
            node = Or(node, right) if kind == "or" else And(node, right)
        if len(seen) == 2:
            later = max(seen.values(), key=lambda t: t.col)
            self.notes.append(
                f"'{later.text}' at column {later.col} applies to everything before it: and/or "
                "are read left to right, as ss does; add parentheses to be explicit"
            )
        return node

    def parse_term(self) -> Node:
        tok = self.take()
        word = tok.text.lower()
        if word in _NOT:
            self.enter(tok)
            node: Node = Not(self.parse_term())
            self.depth -= 1
            return node
        if tok.text == "(":
            self.enter(tok)
            node = self.parse_list()
            close = self.peek()
            if close is None or close.text != ")":
                raise FilterError(
                    self.expr, close.col if close else len(self.expr) + 1, "expected_paren"
                )
            self.take()
            self.depth -= 1
            return node
        if word == "state":
            states = self.parse_states()
            while self.word() == "state":  # `state a state b`: a union, as in ss
                self.take()
                states = State(states.states | self.parse_states().states)
            return states
        if word in ("src", "dst"):
            return self.parse_host(word)
        if word in ("sport", "dport"):
            return self.parse_port(word)
        raise self.fail(tok, "expected_term")

    def parse_states(self) -> State:
        tok = self.take()
        states: set[TcpState] = set()
        col = tok.col
        for word in tok.text.split(","):
            if not word:
                raise FilterError(self.expr, col, "empty_state")
            group = STATE_GROUPS.get(word.lower())
            state = parse_state(word)
            if group is not None:
                states |= group
            elif state is not None:
                states.add(state)
            else:
                raise FilterError(
                    self.expr, col, "unknown_state", suggest_state(word), word=word[:40]
                )
            col += len(word) + 1
        return State(frozenset(states))

    def parse_host(self, side: str) -> Host:
        tok = self.take()
        text = tok.text
        if text.lower() in _KEYWORDS or text in ("(", ")"):
            raise self.fail(tok, "expected_address")
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
        if not addr_txt.isascii() or len(addr_txt) > 64:
            raise self.fail(tok, "not_address")
        try:
            net = ipaddress.ip_network(addr_txt, strict=False)
        except ValueError:
            raise self.fail(tok, "not_address") from None
        fam = socket.AF_INET if net.version == 4 else socket.AF_INET6
        return Host(side, fam, net.network_address.packed, net.prefixlen, port)

    def port_number(self, tok: Token, text: str) -> int:
        m = _PORT.fullmatch(text)  # ASCII digits only: int() would take '²' or 4300 digits
        if m is None or int(m.group(1)) > 65535:
            raise self.fail(tok, "not_port")
        return int(m.group(1))

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
# And/Or chains are left-deep (a filter is read left to right), so every walk below flattens a
# chain with a loop: recursion only follows parentheses and not's, which MAX_DEPTH bounds.


def _operands(node: Node) -> list[Node]:
    """The operands of a chain of the same operator as ``node`` (And or Or), in order."""
    kind = type(node)
    out: list[Node] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if type(n) is kind and isinstance(n, And | Or):
            stack += (n.right, n.left)
        else:
            out.append(n)
    return out


def _has_state(node: Node) -> bool:
    if isinstance(node, State):
        return True
    if isinstance(node, And | Or):
        return any(_has_state(n) for n in _operands(node))
    if isinstance(node, Not):
        return _has_state(node.inner)
    return False


def _conjuncts(node: Node) -> list[Node]:
    return _operands(node) if isinstance(node, And) else [node]


def _port_code(node: Port) -> bytes:
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
    p = node.port - 1  # "<"
    return never if p < 0 else bc.port_cmp(bc.S_LE if src else bc.D_LE, p)


@functools.lru_cache(maxsize=4096)
def _leaf_code(node: Host | Port) -> bytes:
    """A term's program, compiled once however many sockets it is run on."""
    if isinstance(node, Host):
        code = bc.S_COND if node.side == "src" else bc.D_COND
        port = -1 if node.port is None else node.port
        return bc.hostcond(code, node.family, node.addr, node.prefix, port)
    return _port_code(node)


def bytecode_size(node: Node) -> int:
    """An upper bound of ``len(to_bytecode(node))``, computed without building it."""
    if isinstance(node, And):
        return sum(bytecode_size(n) for n in _operands(node))
    if isinstance(node, Or):
        ops = _operands(node)
        return sum(bytecode_size(n) for n in ops) + 4 * (len(ops) - 1)
    if isinstance(node, Not):
        return bytecode_size(node.inner) + 4
    if isinstance(node, Host):
        return 12 + len(node.addr)
    if isinstance(node, Port):
        return 16 if node.op == "!=" else 12
    raise TypeError(f"cannot compile {node!r} to bytecode")


def to_bytecode(node: Node) -> bytes:
    """Compile a state-free filter to INET_DIAG bytecode."""
    if isinstance(node, And):
        return bc.all_of(*(to_bytecode(n) for n in _operands(node)))
    if isinstance(node, Or):
        return bc.any_of(*(to_bytecode(n) for n in _operands(node)))
    if isinstance(node, Not):
        return bc.negate(to_bytecode(node.inner))
    if isinstance(node, Host | Port):
        return _leaf_code(node)
    raise TypeError(f"cannot compile {node!r} to bytecode")


@dataclass(frozen=True)
class Plan:
    """How a filter runs: kernel state mask and bytecode, plus a Python check when needed."""

    text: str | None
    mask: int
    bytecode: bytes
    node: Node | None  # evaluate in Python too (state terms the kernel cannot express)
    notes: tuple[str, ...] = ()  # how an ambiguous filter was read

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
    parser = _Parser(expr)
    node = parser.parse()
    notes = tuple(parser.notes)
    conj = _conjuncts(node)
    states = [n for n in conj if isinstance(n, State)]
    rest = [n for n in conj if not isinstance(n, State)]
    mask = MASK_ALL
    for s in states:
        mask &= mask_of(s.states)
    if any(_has_state(n) for n in rest):
        # A state test under or/not: the kernel mask cannot say it; run the whole thing in Python,
        # but still let the kernel drop what the top-level state terms exclude.
        return Plan(expr, mask, b"", node, notes)
    size = sum(bytecode_size(n) for n in rest)
    if size > MAX_BYTECODE:
        raise FilterError(expr, 1, "bytecode", size=f"{size:,}", max=f"{MAX_BYTECODE:,}")
    prog = bc.all_of(*(to_bytecode(n) for n in rest))
    return Plan(expr, mask, prog, None, notes)


def evaluate(
    node: Node, family: int, state: int, saddr: bytes, sport: int, daddr: bytes, dport: int
) -> bool:
    """Evaluate a filter on one socket in Python (kernel semantics for addresses and ports)."""
    if isinstance(node, And):
        return all(evaluate(n, family, state, saddr, sport, daddr, dport) for n in _operands(node))
    if isinstance(node, Or):
        return any(evaluate(n, family, state, saddr, sport, daddr, dport) for n in _operands(node))
    if isinstance(node, Not):
        return not evaluate(node.inner, family, state, saddr, sport, daddr, dport)
    if isinstance(node, State):
        return state in node.states
    return bc.run(_leaf_code(node), family, saddr, sport, daddr, dport)
