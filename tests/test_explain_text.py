"""The explainer's words without a kernel (no root): fixed sockets and snapshots, checked against
shared/kernel-facts.md, and the Chinese tables checked for the conventions a Chinese SRE expects."""

from __future__ import annotations

import os
import re
import socket
from dataclasses import replace

import pytest

from tests.ui.fakes import make_snapshot
from twtop.explain import explain_socket, render_state_card
from twtop.knowledge import FINDINGS, PHRASES, STATE_TEXT
from twtop.model import Owner, Socket
from twtop.states import TcpState as S
from twtop.text import ms as fmt_ms


def _sock(state: S, **kw: object) -> Socket:
    base: dict[str, object] = dict(
        family=socket.AF_INET, state=state, local="10.0.0.1", lport=40000, remote="10.0.0.2",
        rport=80, timer=0, expires_ms=0, retrans=0, rqueue=0, wqueue=0, uid=0, inode=4242,
        cookie=1, inbound=False, owner=Owner(7, "app", "www"),
    )  # fmt: skip
    base.update(kw)
    return Socket(**base)  # type: ignore[arg-type]


def _snap(**sysctl: str) -> object:
    snap = make_snapshot()
    return replace(snap, sysctl={**snap.sysctl, **sysctl})


def test_closing_card_marks_the_peers_ack_as_missing() -> None:
    card = render_state_card(S.CLOSING)
    assert "  1  FIN ------------------------------>      done" in card
    assert ">>2      <------------------------------ ACK  waiting" in card
    assert "  3      <------------------------------ FIN  done" in card
    assert "  4  ACK ------------------------------>      done" in card


@pytest.mark.parametrize(("value", "total"), [(70, 20), (120, 120), (200, 280)])
def test_fin_timeout_above_60_totals(value: int, total: int) -> None:
    """kernel-facts 4: 70 -> 20 s, 120 -> 120 s, 200 -> 280 s."""
    sock = _sock(S.FIN_WAIT2, timer=2, expires_ms=5_000, inode=0, owner=None)
    exp = explain_socket(sock, _snap(tcp_fin_timeout=str(value)))  # type: ignore[arg-type]
    assert f"{total} s in all" in exp.timer and f"another {value - 60} s" in exp.timer
    mini = replace(sock, timer=3)
    exp = explain_socket(mini, _snap(tcp_fin_timeout=str(value)))  # type: ignore[arg-type]
    assert "second stage" in exp.timer and f"{total} s in all" in exp.timer


def test_fin_timeout_unknown_gives_the_rule_not_a_number() -> None:
    sock = _sock(S.FIN_WAIT2, timer=2, expires_ms=5_000, inode=0, owner=None)
    assert "2 x (T - 60) in all" in explain_socket(sock).timer


def test_retrans_is_consecutive_timeouts_not_a_total() -> None:
    exp = explain_socket(_sock(S.ESTABLISHED, timer=1, expires_ms=800, retrans=3))
    assert (
        "consecutive timeouts since the last progress: 3" in exp.timer
        and "not a total" in exp.timer
    )


def test_time_wait_timer_may_have_been_rearmed() -> None:
    tw = _sock(S.TIME_WAIT, timer=3, expires_ms=45_000, inode=0, owner=None)
    exp = explain_socket(tw, _snap(tcp_tw_reuse="0"))  # type: ignore[arg-type]
    assert "last (re)armed 15.0 s ago" in exp.timer and "re-armed" in exp.timer
    # tcp_tw_reuse=0 still lets a socket bound explicitly to the port take it over (5)
    assert exp.reuse is not None and "bound explicitly to this local port" in exp.reuse
    exp = explain_socket(tw, _snap(tcp_tw_reuse="2"))  # type: ignore[arg-type]
    assert exp.reuse is not None and "so not for this tuple" in exp.reuse
    loop = replace(tw, local="127.0.0.1", remote="127.0.0.1")
    exp = explain_socket(loop, _snap(tcp_tw_reuse="2"))  # type: ignore[arg-type]
    assert exp.reuse is not None and "this tuple is loopback" in exp.reuse


def test_counting_down_past_zero_says_gone_not_zero_left() -> None:
    tw = _sock(S.TIME_WAIT, timer=3, expires_ms=1_500, inode=0, owner=None)
    assert "1.5 s of 60 s left" in explain_socket(tw, elapsed_ms=0).timer
    exp = explain_socket(tw, elapsed_ms=4_000)
    assert exp.timer.startswith("Gone: its timer ran out 2.5 s ago") and exp.reuse is None
    # a full socket's timer is re-armed by the kernel, not freed: "fires in a moment", never "gone"
    est = _sock(S.ESTABLISHED, timer=1, expires_ms=200, retrans=1)
    assert "fires in a moment (overdue)" in explain_socket(est, elapsed_ms=1_000).timer


def test_close_wait_queue_meanings() -> None:
    def q(rq: int) -> str:
        return explain_socket(_sock(S.CLOSE_WAIT, rqueue=rq, inbound=True)).queues

    assert "does not prove the application saw EOF" in q(0)
    assert "only the peer's FIN" in q(1) and "not read EOF yet" in q(1)
    assert "9 bytes of data and the peer's FIN" in q(10) and "RST" in q(10)


def test_unknown_owner_gives_the_real_reasons() -> None:
    exp = explain_socket(_sock(S.CLOSE_WAIT, owner=None))
    if os.geteuid() == 0:
        assert "rescans it only every few seconds" in exp.owner
    else:
        assert "needs root" in exp.owner


def test_durations_in_chinese_use_chinese_units() -> None:
    assert fmt_ms(850, "zh") == "850 毫秒"
    assert fmt_ms(42_000, "zh") == "42.0 秒"
    assert fmt_ms(185_000, "zh") == "3 分 05 秒"
    assert fmt_ms(185_000) == "3m05s"
    tw = _sock(S.TIME_WAIT, timer=3, expires_ms=42_000, inode=0, owner=None)
    assert "还剩 42.0 秒" in explain_socket(tw, lang="zh").timer


#: The findings whose words the explainer's owner keeps (the advisor's newer block is its own).
_OWN_FINDINGS = ("close_wait_leak", "tw_port_pressure", "tw_server_side", "tw_buckets_overflow",
                 "tw_reuse_off", "timestamps_off", "narrow_port_range", "reserved_in_range",
                 "listen_overflow", "orphans_high", "fin_wait2_pile", "syn_recv_pile",
                 "tw_recycle_on")  # fmt: skip


def _zh_texts() -> list[str]:
    out: list[str] = []
    for d in STATE_TEXT["zh"].values():
        out += d.values()
    for fid in _OWN_FINDINGS:
        out += FINDINGS["zh"][fid].values()
    out += PHRASES["zh"].values()
    return out


def test_chinese_uses_seconds_and_full_width_punctuation() -> None:
    for text in _zh_texts():
        assert not re.search(r"\d ?(s|ms)\b", text), text  # 秒 / 毫秒, not s / ms
        assert "minisocket" not in text and "end-of-file" not in text, text
        # ASCII , ; ( only inside code such as bind(ip, 0) or shutdown(SHUT_WR)
        prose = re.sub(r"[A-Za-z_.]+\([^()]*\)", "", text)
        assert not re.search(r"[,;]|(?<![A-Za-z_])\(", prose), text


@pytest.mark.parametrize("width", [60, 76, 80])
def test_chinese_lines_never_start_with_closing_punctuation(width: int) -> None:
    """Line breaking as Chinese text expects: no line starts with ，。；：、） and none ends
    with （."""
    texts = [render_state_card(state, "zh") for state in S]
    for state in S:
        sock = _sock(state, timer=1, expires_ms=900, retrans=2, rqueue=5, wqueue=3, inbound=True)
        texts.append(explain_socket(sock, _snap(), "zh").render(width))  # type: ignore[arg-type]
    for text in texts:
        for line in text.splitlines():
            assert not re.match(r"\s*[，。；：、）]", line), line
            assert not line.endswith("（"), line


def test_chinese_joins_without_ascii_separators() -> None:
    cw = _sock(S.CLOSE_WAIT, rqueue=1, inode=0, owner=None, lport=8080, inbound=True)
    text = explain_socket(cw, _snap(), "zh").render(400)  # type: ignore[arg-type]
    assert "已经发生：← FIN、→ ACK。" in text
    assert "（被动关闭方）" in text
    # the fake snapshot's listener 0.0.0.0:8080 belongs to api-server[4242]
    assert "（监听套接字 0.0.0.0:8080，进程 api-server[4242]）" in text
    assert "。客户端已经关闭" in text
