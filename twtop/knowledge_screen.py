"""Words of the main screen's panes added for issue 9 (how the screen reads), en and zh.

Kept apart from knowledge.py so that moving the older UI words into tables and adding these do
not edit the same lines; a later tidy-up may fold them in.
"""

from __future__ import annotations

SCREEN_WORDS: dict[str, dict[str, str]] = {
    "en": {
        # the states pane's title: over what CHANGE/s and the sparklines are smoothed
        "rate_window": "change/s over {s} s",
        "rate_first": "change/s after the next poll",
        # the strip under the peers: what Enter does (dropped when the line has no room)
        "strip_hint": "  (Enter: sockets)",
        # the findings bar's last line when more findings fired than it shows
        "bar_more": "+{n} more (f)",
        "bar_more_short": "+{n} (f)",
        # the status line when not root (kernel-facts: other users' /proc/PID/fd need root)
        "note_not_root": "not root: PROCESS is empty for other users' sockets (reading their "
        "/proc/PID/fd needs root)",
        # CLOSE_WAIT leak evidence before twtop has watched long enough to know their age
        "cw_evidence_unwatched": "{count} CLOSE_WAIT sockets; {ownership}; how long they have "
        "been open: unknown until twtop has watched them {aged_s} s; {unread} with unread data",
    },
    "zh": {
        "rate_window": "每秒变化：最近 {s} 秒",
        "rate_first": "下次采样后显示每秒变化",
        "strip_hint": "  （Enter：查看套接字）",
        "bar_more": "另有 {n} 条（f）",
        "bar_more_short": "+{n} (f)",
        "note_not_root": "非 root：其他用户的套接字没有进程信息（读取其 /proc/PID/fd 需要 root）",
        "cw_evidence_unwatched": "{count} 个 CLOSE_WAIT；{ownership}；已存在多久：twtop 观察满 "
        "{aged_s} 秒之前未知；{unread} 个有未读数据",
    },
}
