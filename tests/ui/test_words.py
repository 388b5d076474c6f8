"""Every word on every screen in the app's language: --lang zh at 80x24 (main screen, help,
findings, listeners, counters, drill-down, explainer) shows no English word outside an allowlist
of names that stay as they are (TCP states, keys, sysctls, counters, units, data). Help lays out
as key column + description with a hanging indent, en and zh, 80x24 and 60x20. The filter bar
suggests the nearest state name and says when ``dport`` should have been ``sport``."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from tests.ui.fakes import FakeSource
from tests.ui.screen import screen_text, settle
from tui.app import TwtopApp
from tui.screens.help import INDENT, KEY_COLS
from twtop.knowledge_ui import HELP, HELP_TITLE
from twtop.model import Snapshot
from twtop.states import SHORT_NAMES, SS_NAMES, TcpState

#: ASCII words that stay as they are in Chinese: state names and ss's spellings, key names, the
#: filter language, protocol and format names, function calls, sysctl and counter names, units.
KEEP = {
    *(s.name for s in TcpState),
    *SHORT_NAMES.values(),
    *SS_NAMES.values(),
    "q",
    "F10",
    "ctrl",
    "c",
    "F1",
    "F4",
    "F6",
    "s",
    "r",
    "g",
    "space",
    "Z",
    "f",
    "l",
    "n",
    "e",
    "p",
    "Enter",
    "PgDn",
    "PgUp",
    "Esc",
    "esc",
    "enter",
    "state",
    "src",
    "dst",
    "sport",
    "dport",
    "and",
    "or",
    "not",
    "TCP",
    "IP",
    "IPv4",
    "IPv6",
    "JSON",
    "SVG",
    "Markdown",
    "FIN",
    "ACK",
    "SYN",
    "RST",
    "CW",
    "Linux",
    "twtop",
    "top",
    "backlog",
    "BACKLOG",
    "ACCEPT",
    "accept",
    "close",
    "connect",
    "bind",
    "listen",
    "shutdown",
    "SHUT_WR",
    "rqueue",
    "wqueue",
    "RQ",
    "WQ",
    "inode",
    "rto",
    "EADDRNOTAVAIL",
    "TCP_TIMEWAIT_LEN",
    "sysctl",
    "tcp_info",
    "rtt",
    "cwnd",
    "cookie",
    "ss",
    "ms",
    "k",
    "M",
    "h",
    "m",
    "HTTP",
    "netns",
    "CPU",
    "keep-alive",
    "w",  # sysctl -w
}
#: Kernel names: sysctls (tcp_*, ip_*, net.*) and TcpExt/Tcp/sockstat counters.
KERNEL = re.compile(r"^(tcp_\w+|TCP\w+|ip_\w+|net\.[\w.]+|somaxconn|sockstat_\w+|Tcp\w+|Listen\w+|"
                    r"Syncookies\w+|TW\w*|Estab\w+|CurrEstab|ActiveOpens|PassiveOpens|"
                    r"AttemptFails|[A-Z][A-Z0-9]*(_[A-Z0-9]+)+)$")  # fmt: skip
# (the last: kernel constants such as SO_KEEPALIVE, IP_BIND_ADDRESS_NO_PORT)
#: Data of the fake source: host, kernel, process names, addresses.
DATA = {"web-7", "api-server", "www"}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")


def _elided_data(word: str, line: str) -> bool:
    """A piece of a data name cut in the middle to fit its column (``api-…rver[4242]``)."""
    cut = re.escape(word)
    return any((d.startswith(word) and re.search(cut + r"[-._]*…", line) is not None)
               or (d.endswith(word) and "…" + word in line) for d in DATA)  # fmt: skip


def english_words(text: str) -> list[str]:
    """ASCII words on screen that are not in the allowlist (data excluded)."""
    out = []
    for line in text.splitlines():
        for w in WORD.findall(line):
            w = w.rstrip(".-")
            if w in KEEP or w in DATA or KERNEL.match(w) or _elided_data(w, line):
                continue
            if re.fullmatch(r"[0-9a-fA-F:.]+|\d+[a-z]*", w):  # addresses, 21ms, 42s
                continue
            out.append(w)
    return out


def _app(lang: str = "zh", source: FakeSource | None = None) -> TwtopApp:
    return TwtopApp(source or FakeSource(), {"interval": 1.0, "lang": lang}, poll=False)


async def _start(app: TwtopApp, pilot: object) -> None:
    app.poll_once()
    await settle(pilot)
    app.poll_once()  # two samples: rates known
    await settle(pilot)


@pytest.mark.parametrize(
    "keys",
    [
        (),
        ("question_mark",),
        ("f",),
        ("l",),
        ("c",),
        ("enter",),
        ("enter", "enter"),
        ("ctrl+p",),
        ("space",),
        ("g",),
    ],  # fmt: skip
    ids=[
        "main",
        "help",
        "findings",
        "listeners",
        "counters",
        "drill-down",
        "explainer",
        "palette",
        "paused",
        "group-toast",
    ],  # fmt: skip
)
async def test_zh_screens_have_no_english_word(keys: tuple[str, ...]) -> None:
    app = _app("zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await _start(app, pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        text = screen_text(app)
        assert english_words(text) == [], text


def test_the_allowlist_catches_english() -> None:
    """The check itself: the old zh screen's words are caught."""
    old = "╭─ Ephemeral ports 32768-60999: 28,232 per tuple ─╮\n / Filter  s Sort  q Quit"
    assert english_words(old) == ["Ephemeral", "ports", "per", "tuple", "Filter", "Sort", "Quit"]


def test_the_whole_zh_help_has_no_english_word() -> None:
    from tui.screens.help import render_help

    assert english_words(render_help("zh", 70).plain) == []


def _help_lines(text: str) -> list[str]:
    """The lines inside the help dialog's border, without the border and its padding."""
    lines = []
    for ln in text.splitlines():
        m = re.search(r"│ (.*?) *[▁▂▃▄▅▆▇█ ]?[▁▂▃▄▅▆▇█ ]? ?│", ln)
        inner = ln.split("│")
        if len(inner) >= 3 and m:
            lines.append(inner[-2][1:].rstrip(" ▁▂▃▄▅▆▇█▎▊▌▍▋▉"))
    return lines


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_help_fits_80x24_with_a_hanging_indent(lang: str, size: tuple[int, int]) -> None:
    """At 80x24 no description wraps; at 60x20 they wrap under their own column."""
    app = _app(lang)
    async with app.run_test(size=size) as pilot:
        await _start(app, pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        text = screen_text(app)
        assert f" {HELP_TITLE[lang]} " in text  # "twtop — a top ...": the space before the dash
        keys = {k for _h, rows in HELP[lang] for k, _d in rows if k}
        heads = {h for h, _rows in HELP[lang] if h} | {HELP_TITLE[lang]}
        desc_col = INDENT + KEY_COLS
        seen = continued = 0
        for line in _help_lines(text):
            if not line.strip() or line.strip() in heads:
                continue
            lead = len(line) - len(line.lstrip(" "))
            if lead == INDENT:  # a row: its key, then its description in the description column
                assert any(line[INDENT:].startswith(k + " ") for k in keys), line
                seen += 1
            else:  # a continuation: under the description, never at the key column
                assert lead == desc_col, f"continuation at column {lead}: {line!r}"
                continued += 1
        assert seen >= 5
        if size == (80, 24):
            assert continued == 0  # short sentences: nothing wraps at 80 columns
        elif lang == "en":
            assert continued > 0  # the hanging indent was exercised


async def test_help_scrolls_at_60x20() -> None:
    app = _app("en")
    async with app.run_test(size=(60, 20)) as pilot:
        await _start(app, pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        text = screen_text(app)
        box = [ln for ln in text.splitlines() if ln.count("│") >= 2]
        assert box and all(len(ln) <= 60 for ln in text.splitlines())
        assert "twtop — a top" in text and "twtop only reads" not in text
        for _ in range(6):
            await pilot.press("pagedown")
        await settle(pilot)
        assert "twtop only reads" in screen_text(app)


class ZeroMatches(FakeSource):
    """A source whose filtered polls match nothing (as the kernel's would for dport = :8080)."""

    def poll(self) -> Snapshot:
        snap = super().poll()
        if self.filter:
            return replace(snap, states={}, peers=(), peers_total=0)
        return snap


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "0 sockets match; 1 match with sport and dport swapped"),
        ("zh", "没有匹配的套接字；交换 sport 和 dport 后有 1 个匹配"),
    ],  # fmt: skip
)
async def test_filter_bar_says_try_sport(lang: str, said: str) -> None:
    source = ZeroMatches()
    app = _app(lang, source)
    async with app.run_test(size=(80, 24)) as pilot:
        await _start(app, pilot)
        await pilot.press("slash")
        await pilot.press(*"dport = :8080")
        await pilot.press("enter")
        await settle(pilot)
        app.poll_once()  # the fake's CLOSE_WAIT has local port 8080: sport matches it
        await settle(pilot)
        text = screen_text(app)
        flat = re.sub(r"\s*\n\s*", "", text)  # the hint wraps at 80 columns
        assert said.replace(" ", "") in flat.replace(" ", "") and "sport = :8080" in text, text


@pytest.mark.parametrize(("lang", "said"), [("en", "did you mean time-wait?"),
                                            ("zh", "你是不是想输入 time-wait？")])  # fmt: skip
async def test_filter_bar_suggests_the_nearest_state(lang: str, said: str) -> None:
    app = _app(lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await _start(app, pilot)
        await pilot.press("slash")
        await pilot.press(*"state timewait")
        await pilot.press("enter")
        await settle(pilot)
        assert said in screen_text(app)


@pytest.mark.parametrize(
    ("expr", "zh", "en"),
    [
        ("state timewiat", "第 7 列未知状态：'timewiat'", "unknown state: 'timewiat' at column 7"),
        ("sport = x", "第 9 列不是端口号（0-65535）：'x'", "not a port number (0-65535): 'x'"),
        ("(", "第 2 列过滤器意外结束", "unexpected end of filter at column 2"),
    ],
)
async def test_zh_filter_error_is_translated_whole(expr: str, zh: str, en: str) -> None:
    """The filter error's base text was English on a zh screen (only the suggestion was
    translated): FilterError carries a code and its values; the UI words them, the CLI keeps
    the English."""
    from twtop.filter import FilterError, compile_filter

    with pytest.raises(FilterError) as err:
        compile_filter(expr)
    assert en in str(err.value)  # the CLI's words are unchanged
    app = _app("zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await _start(app, pilot)
        await pilot.press("slash")
        await pilot.press(*expr)
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert zh in text, text
        assert "column" not in text and en.split(":")[0].split(" at ")[0] not in text, text
        if expr == "state timewiat":
            assert "你是不是想输入 time-wait？" in text, text


def test_every_filter_error_has_words_in_every_language() -> None:
    """Each FilterError code raised by twtop.filter has en and zh words with the same values."""
    import string

    from twtop.knowledge_ui import UI_WORDS

    codes = {k for k in UI_WORDS["en"] if k.startswith("filter_err")}
    assert codes == {k for k in UI_WORDS["zh"] if k.startswith("filter_err")}
    for k in codes:
        names = [{f for _, f, _, _ in string.Formatter().parse(UI_WORDS[lang][k]) if f}
                 for lang in ("en", "zh")]  # fmt: skip
        assert names[0] == names[1], k
    with open("twtop/filter.py") as f:
        source = f.read()
    raised = set(re.findall(r'(?:FilterError\([^"]*|fail\(tok, )"([a-z_]+)"', source))
    assert raised and {f"filter_err_{c}" for c in raised} <= codes


def test_drill_down_orphan_and_timer_kinds_in_zh() -> None:
    """The drill-down's "orphan" and rto/ka/zwp stayed English on a zh screen."""
    import socket

    from twtop.model import Socket
    from widgets.sockets import cells

    orphan = Socket(socket.AF_INET, TcpState.FIN_WAIT1, "10.0.0.1", 8080, "10.0.0.2", 40000, 1,
                    200, 3, 0, 1, 0, 0, 1)  # fmt: skip
    ka = replace(orphan, state=TcpState.ESTABLISHED, timer=2, retrans=0, inode=7)
    zwp = replace(orphan, timer=4, retrans=2)
    zh = {name: cells(s, lang="zh") for name, s in (("o", orphan), ("ka", ka), ("zwp", zwp))}
    en = {name: cells(s) for name, s in (("o", orphan), ("ka", ka), ("zwp", zwp))}
    assert str(en["o"]["process"].text) == " orphan" and str(zh["o"]["process"].text) == " 孤儿"
    timers = {k: (str(en[k]["timer"].text), str(zh[k]["timer"].text)) for k in en}
    assert timers == {"o": ("rto 200ms/3", "重传200ms/3"), "ka": ("ka 200ms", "保活200ms"),
                      "zwp": ("zwp 200ms/2", "零窗200ms/2")}  # fmt: skip
