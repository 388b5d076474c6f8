"""The ``twtop`` command: the TUI by default, ``--once`` reports, ``twtop explain STATE``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from twtop import __version__
from twtop.budget import DEFAULT_CPU_BUDGET_PCT
from twtop.errors import EXIT_RUNTIME, EXIT_USAGE, TwtopError, UsageError
from twtop.model import GROUPS
from twtop.safe import sanitize

#: Bound for a whole ``--once`` table run through the sanitiser (it bounds names, not reports).
REPORT_LIMIT = 1 << 30

if TYPE_CHECKING:
    from twtop.collector import Collector
    from twtop.model import Snapshot

#: Seconds between the two polls of a report: enough for counter rates to show.
DEFAULT_SAMPLE_S = 1.0
#: The longest sample window accepted (a report is meant to come back quickly).
MAX_SAMPLE_S = 60.0

EPILOG = """\
filter examples:
  state time-wait
  state established,close-wait and dport = :443
  dst 10.0.0.0/8 and not sport >= 1024

subcommands:
  twtop explain [STATE]   what a TCP state means; no STATE: all states, one line each
  twtop export            Prometheus exporter (see twtop export -h)

exit codes: 0 ok, 1 runtime error, 2 usage error, 69 sock_diag/namespace unavailable
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for the main command."""
    ap = argparse.ArgumentParser(
        prog="twtop",
        description="A top for TCP connection states: TIME_WAIT, CLOSE_WAIT, ephemeral ports.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("-V", "--version", action="version", version=f"twtop {__version__}")
    ap.add_argument("-i", "--interval", type=float, help="seconds between polls (default 1)")
    ap.add_argument("-n", "--netns", help="network namespace: NAME (ip netns), PID or PATH")
    ap.add_argument("-f", "--filter", help="ss-like filter expression (see below)")
    ap.add_argument("-g", "--group", choices=GROUPS, help="group peers by (default ip)")
    ap.add_argument("--once", action="store_true", help="print one report and exit")
    ap.add_argument("--format", choices=("table", "json", "prom"), help="--once output format")
    ap.add_argument(
        "-o", "--output", metavar="FILE",
        help="with --format prom: write FILE atomically (node_exporter textfile directory)",
    )  # fmt: skip
    ap.add_argument("--json", action="store_true", help="same as --once --format json")
    ap.add_argument(
        "--sample",
        type=float,
        default=DEFAULT_SAMPLE_S,
        metavar="S",
        help="--once: seconds between the two polls that give rates and ages "
        f"(default {DEFAULT_SAMPLE_S:g}; 0 = one poll, rates unknown)",
    )
    ap.add_argument(
        "--cpu-budget", type=float, metavar="PCT",
        help="TUI: percent of one core the collector may use; state counts stay fresh every "
        f"interval, per-peer detail refreshes as the budget allows (default "
        f"{DEFAULT_CPU_BUDGET_PCT:g}; 0 = no limit; "
        "--once always polls in full)",
    )  # fmt: skip
    ap.add_argument("--top", type=int, help="list lengths in reports (default 10)")
    ap.add_argument("--lang", choices=("en", "zh"), help="language (default from LANG)")
    ap.add_argument("--no-mouse", action="store_true", default=None, help="no mouse support")
    return ap


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    from twtop import config

    keys = ("interval", "netns", "filter", "group", "lang", "top", "no_mouse", "cpu_budget")
    return config.resolve({key: getattr(args, key) for key in keys}).as_dict()


def _sample(collector: Collector, sample_s: float) -> Snapshot:
    """One poll, or two ``sample_s`` apart so rates and ages exist. /proc is rescanned right
    before the last poll, so an owner still unknown then is not in this PID namespace."""
    snap = collector.poll()
    if sample_s > 0:
        time.sleep(sample_s)
        collector.procs.refresh(force=True)
        snap = collector.poll()
    return snap  # an aged count is unknown until watched CLOSE_WAIT_AGED_S (build.py)


def _once(
    settings: dict[str, Any],
    fmt: str,
    sample_s: float = DEFAULT_SAMPLE_S,
    output: str | None = None,
) -> int:
    from twtop.advisor import Context, advise
    from twtop.collector import Collector
    from twtop.report import document, render_table

    with Collector(
        netns=settings.get("netns"), filter=settings.get("filter"), group=settings["group"]
    ) as collector:
        snap = _sample(collector, sample_s)
        hint = None
        if snap.total == 0 and settings.get("filter"):  # dport = :N on a server: say sport
            from twtop.hints import port_hint

            hint = port_hint(settings["filter"], lambda f: len(collector.sockets(f)),
                             settings["lang"])  # fmt: skip
    top = settings["top"]
    ctx = Context(lang=settings["lang"], root=os.geteuid() == 0, owners="fresh")
    findings = advise(snap, ctx=ctx)
    if hint and fmt != "table":  # the table says it; the machine formats keep their shape
        print(f"twtop: note: {hint}", file=sys.stderr)
    if fmt == "json":
        doc = document(snap, findings, top)
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    elif fmt == "prom":
        from twtop.prom import render_snapshot

        text = render_snapshot(snap, findings, top=top)
        if output:
            from twtop.files import write_atomic

            # node_exporter reads the textfile directory as its own user: world-readable.
            write_atomic(output, text, mode=0o644)
        else:
            sys.stdout.buffer.write(text)
    else:
        lines = [line for f in findings for line in f.render_lines()]
        # Names from the system are data: no control byte reaches the terminal.
        report = render_table(snap, top=top, findings=lines, lang=settings["lang"], hint=hint)
        sys.stdout.write(sanitize(report, REPORT_LIMIT, "\n"))
    return 0


def _explain(argv: list[str]) -> int:
    from twtop import config
    from twtop.knowledge import LANGS

    ap = argparse.ArgumentParser(
        prog="twtop explain",
        description="Explain a TCP state; with no state, list them all, one line each.",
    )
    ap.add_argument(
        "state", nargs="?", help="a state as ss spells it (time-wait) or with underscores"
    )
    ap.add_argument("--lang", choices=LANGS, default=None, help="language (default: as twtop)")
    args = ap.parse_args(argv)
    # The same language as the main command: flag > TWTOP_LANG > config file > LANG.
    lang = args.lang or config.load().get("lang") or config.default_lang()
    if lang not in LANGS:
        raise UsageError(f"lang must be one of {', '.join(LANGS)}")
    from twtop.explain import render_state_card, render_state_list
    from twtop.states import parse_state

    if args.state is None:
        sys.stdout.write(render_state_list(lang))
        return 0
    state = parse_state(args.state)
    if state is None:
        from twtop.filter import suggest_state
        from twtop.knowledge_ui import UI_WORDS

        near = suggest_state(args.state)
        hint = UI_WORDS[lang]["did_you_mean"].format(word=near) if near else (
            "try time-wait, close-wait, fin-wait-2")  # fmt: skip
        raise UsageError(f"unknown state '{args.state}'; {hint}")
    sys.stdout.write(render_state_card(state, lang))
    return 0


def run(argv: list[str] | None = None) -> int:
    """Parse arguments and run; returns the exit code."""
    from_console = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["explain"]:
        if sys.stdout is None:
            raise TwtopError("standard output is closed: nothing to write the explanation to")
        return _explain(argv[1:])
    if argv[:1] == ["export"]:
        from twtop.exporter import run as export

        return export(argv[1:])
    args = build_parser().parse_args(argv)
    if sys.stdout is None:  # started with stdout closed (>&-): Python has no stream at all
        raise TwtopError("standard output is closed: nothing to write the report or the TUI to")
    if args.output and (args.json or (args.format or "table") != "prom"):
        raise UsageError("-o/--output needs --format prom (the textfile collector format)")
    settings = _settings(args)
    if settings.get("filter"):
        from twtop.filter import compile_filter

        plan = compile_filter(settings["filter"])  # a bad filter: a usage error before anything
        for note in plan.notes:
            print(f"twtop: note: {note}", file=sys.stderr)
    if settings.get("netns"):
        from twtop.netns import resolve

        resolve(settings["netns"])
    if not 0 <= args.sample <= MAX_SAMPLE_S:  # NaN fails both
        raise UsageError(f"--sample must be between 0 and {MAX_SAMPLE_S:g} seconds")
    if args.once or args.json or args.format:
        fmt = "json" if args.json else (args.format or "table")
        return _once(settings, fmt, args.sample, args.output)
    if not sys.stdout.isatty():
        # No terminal to draw on: print the report instead of failing.
        return _once(settings, "table", args.sample)
    # The engine never imports the UI statically (import-linter contract): load it by name, here.
    import importlib

    tui_app = importlib.import_module("tui.app")
    code: int = tui_app.run_app(settings)
    if from_console:
        # The app has restored the terminal and closed the netlink socket. Skip the interpreter's
        # teardown: freeing the heap of a big session took 0.75 s of the time `q` takes to quit
        # (strace, idle machine; issue 10 asks for < 1 s). Flush what is buffered, then go.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: one-line errors, exit codes per the conventions."""
    try:
        code = run(argv)
    except TwtopError as exc:
        from twtop.filter import FilterError

        print(f"twtop: {sanitize(str(exc), 2000)}", file=sys.stderr)
        if isinstance(exc, FilterError):
            print(exc.caret(), file=sys.stderr)
        code = exc.exit_code
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        code = 0
    except Exception as exc:  # never a traceback for the user; TWTOP_DEBUG=1 shows one
        if os.environ.get("TWTOP_DEBUG"):
            raise
        print(f"twtop: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = EXIT_RUNTIME
    sys.exit(code) if argv is None else None
    return code


__all__ = ["EXIT_USAGE", "main", "run"]
