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
    },
    "zh": {
        "rate_window": "每秒变化:最近 {s} 秒",
        "rate_first": "下次采样后显示每秒变化",
    },
}
