"""The words and decisions of the listeners view, the counters view and the incident note: pure,
no root, no terminal."""

from __future__ import annotations

import re
import string
from dataclasses import replace

from tests.ui.fakes import make_snapshot
from twtop import sysinfo
from twtop.advisor import advise
from twtop.knowledge_views import COUNTER_TEXT, VIEW_WORDS
from twtop.model import Listener, Owner, PeerRow, ProcessRow, Snapshot
from twtop.note import incident_note, md
from twtop.panes import COUNTER_ORDER, counter_lines, listener_lines, unknown_owners
from twtop.states import TcpState as S


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_word_in_both_languages_with_the_same_placeholders() -> None:
    for table in (VIEW_WORDS, COUNTER_TEXT):
        assert set(table["en"]) == set(table["zh"])
        for key, text in table["en"].items():
            assert _fields(text) == _fields(table["zh"][key]), key


def test_every_counter_twtop_reads_has_a_meaning_from_kernel_facts() -> None:
    names = {n for _f, _s, n in sysinfo.COUNTERS} | {"sockstat_tw", "sockstat_orphan",
                                                    "sockstat_inuse"}  # fmt: skip
    assert names == set(COUNTER_ORDER) == set(COUNTER_TEXT["en"])
    assert "FIN_WAIT2" in COUNTER_TEXT["en"]["TW"]  # kernel-facts 7b: TW counts them too
    assert "nothing to do with tcp_tw_recycle" in COUNTER_TEXT["en"]["TWRecycled"]
    assert "connect()" in COUNTER_TEXT["en"]["TWRecycled"]


def _snap() -> Snapshot:
    snap = make_snapshot(1)
    return replace(
        snap,
        listeners=(
            Listener("0.0.0.0", 8080, 0, 4096, Owner(1, "a", "u"), 0, 0),
            Listener("127.0.0.1", 7070, 3, 2, Owner(77, "orders-api.py", "www"), 5, 3),
            Listener("::", 9090, 2, 2, None),  # at the limit: not full; nothing measured
        ),
        counters={
            "TW": 10,
            "TWRecycled": 100,
            "ListenOverflows": 3,
            "CurrEstab": 5,
            "EstabResets": 9,
        },  # fmt: skip
        rates={"TW": 1.0, "TWRecycled": 50.0, "ListenOverflows": 0.0, "EstabResets": 0.0},
        interval_s=2.0,
    )


def test_listener_lines_full_only_past_the_backlog_and_unknown_not_zero() -> None:
    lines = listener_lines(_snap())
    assert [x.where for x in lines][0] == "127.0.0.1:7070"  # the full one first
    first, *_ = lines
    assert (first.queue, first.full, first.syn, first.unaccepted) == ("3/2 full", True, "5", "3")
    v6 = next(x for x in lines if x.where == "[::]:9090")
    assert (v6.queue, v6.full, v6.syn, v6.unaccepted, v6.owner) == (
        "2/2",
        False,
        "unknown",
        "unknown",
        "unknown",
    )
    assert unknown_owners(_snap(), root=False) == (
        "owner unknown: reading other users' processes needs root"
    )
    zh = listener_lines(_snap(), "zh")[0]
    assert zh.queue == "3/2 已满"


def test_counter_lines_moved_first_fastest_first_gauges_have_no_rate() -> None:
    lines = counter_lines(_snap())
    assert [c.name for c in lines] == ["TWRecycled", "TW", "ListenOverflows", "CurrEstab",
                                       "EstabResets"]  # fmt: skip
    assert [c.moved for c in lines] == [True, True, False, False, False]
    assert next(c for c in lines if c.name == "CurrEstab").rate_text == "level"
    one = counter_lines(replace(_snap(), interval_s=None, rates={}))
    assert {c.rate_text for c in one if c.name != "CurrEstab"} == {"unknown"}
    assert not any(c.moved for c in one)


def test_incident_note_content() -> None:
    snap = _snap()
    findings = advise(snap, "en")
    note = incident_note(snap, findings, "en")
    assert note.startswith("# twtop incident note: web-7\n")
    assert "- Time: 2026-09-21 " in note and "(2026-09-21T14:13:21Z)" in note
    assert "- Network namespace: the one twtop runs in" in note
    for f in findings:  # every finding with its action
        assert f"- **do**: {md(f.action)}" in note
    assert "| 10.4.14.24 | 21,420 | ESTABLISHED 120, TIME_WAIT 21,300 | api-server\\[4242\\] |" in (
        note
    )
    assert "| 10.4.0.5 -> 10.4.14.24:80 |" in note  # the tuples
    assert "| api-server\\[4242\\] | www | ESTABLISHED 430, CLOSE_WAIT 2,900 |" in note
    assert "| 127.0.0.1:7070 | 3/2 full | 5 | 3 | unknown | orders-api.py\\[77\\] |" in note
    assert "| \\[::\\]:9090 | 2/2 | unknown | unknown | unknown |" in note
    assert "owner unknown" in note  # and why
    assert "| TWRecycled | 100 | 50 |" in note and "| EstabResets |" not in note  # moved only
    assert "| tcp_tw_reuse | 2 |" in note
    zh = incident_note(snap, advise(snap, "zh"), "zh")
    assert zh.startswith("# twtop 故障记录：web-7") and "## 监听套接字" in zh
    assert "twtop incident note" not in zh


def test_names_from_the_system_cannot_change_the_note_structure() -> None:
    evil = "x|y\n# Owned [link](http://e) <b>*bold*</b> `c` _em_"
    snap = replace(
        _snap(),
        host=evil,
        netns="ns\n- item",
        peers=(PeerRow(evil, 1, {S.ESTABLISHED: 1}, 1, 0, (evil,)),),
        processes=(ProcessRow(1, evil, evil, {S.ESTABLISHED: 1}),),
    )
    note = incident_note(snap, [], "en")
    lines = note.splitlines()
    assert not any(ln.startswith("# Owned") or ln.startswith("- item") for ln in lines)
    assert [ln for ln in lines if ln.startswith("# ")] == [lines[0]]  # one title
    for ln in lines:
        if ln.startswith("| ") and "Owned" in ln:
            cells = re.split(r"(?<!\\)\|", ln)
            assert len(cells) in (6, 5)  # peers: 4 cells; processes: 3 (+2 empty edges)
    assert "\\[link\\](http://e)" in note and "\\<b>\\*bold\\*\\</b>" in note
    assert "\\`c\\`" in note and "\\_em\\_" in note
    assert "CLOSE_WAIT" in md("CLOSE_WAIT")  # underscores inside words stay readable
