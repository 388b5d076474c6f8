"""Who a process is: a service name from its command line, its systemd unit or container.

``comm`` alone says ``python3`` for every Python service on the host. ``identify`` reads the
contents of /proc/PID/cmdline, comm and cgroup (a pure function, tested on fixed contents) and
names the service: for an interpreter the script or module it runs (``python3 orders-api.py`` ->
``orders-api.py``, ``python3 -m http.server`` -> ``http.server``, ``java -jar app.jar`` ->
``app.jar``, ``java -cp lib com.x.Main`` -> ``com.x.Main``), otherwise the program's name: the
basename of argv[0] when it extends ``comm`` (the kernel keeps 15 bytes of it), else ``comm``
(a process that renamed itself, or rewrote argv into a title like ``nginx: worker process``).
From the cgroup path it takes the systemd service unit (``/system.slice/nginx.service`` ->
``nginx.service``) and the container id of docker, containerd, CRI-O and podman scopes (12 hex
digits, as ``docker ps`` shows it). Every name goes through ``safe.sanitize``: it is data.

``IdentityCache`` reads those files for live processes, once per (pid, start time): a reused
PID is a new process and is read again. ``display`` fits ``name[pid]`` into a width by eliding
the name in the middle, never the PID.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

from twtop.safe import ELLIPSIS, sanitize
from twtop.text import cols

#: Bound for a service name (a script path's basename, a Java class): enough for any real one.
SERVICE_LIMIT = 128
#: Processes remembered by an IdentityCache (a busy host has a few thousand socket owners).
CACHE_SIZE = 4096
#: Bytes of /proc/PID/cmdline and /proc/PID/cgroup read (the kernel reports up to a page or more).
READ_LIMIT = 64 * 1024

# An interpreter's name with an optional version: python3.11, pypy3, nodejs, ruby3.1, perl5.36.
_INTERPRETER = re.compile(
    r"(?P<kind>python|pypy|node|nodejs|ruby|perl|java|bash|sh|dash|zsh|ksh|mksh|php)"
    r"(?:\d+(?:\.\d+)*)?"
)
_SHELLS = frozenset({"bash", "sh", "dash", "zsh", "ksh", "mksh"})

# Per interpreter: options that take the NEXT argument as their value ...
_WITH_VALUE = {
    "python": frozenset({"-W", "-X", "-Q", "--check-hash-based-pycs"}),
    "node": frozenset({"-r", "--require", "--import", "--loader", "--experimental-loader",
                       "-C", "--conditions", "--env-file", "--title", "--input-type"}),
    "ruby": frozenset({"-I", "-r", "-C", "-E", "--encoding"}),
    "perl": frozenset({"-I", "-M", "-m", "-C"}),
    "java": frozenset({"-cp", "-classpath", "--class-path", "-p", "--module-path",
                       "--upgrade-module-path", "--add-modules", "--add-reads", "--add-exports",
                       "--add-opens", "--limit-modules", "--patch-module", "--source",
                       "--enable-native-access"}),
    "shell": frozenset({"-o", "-O", "+o", "+O"}),
    "php": frozenset({"-c", "-d", "-z"}),
}  # fmt: skip
# ... and options after which no script follows (code on the command line: no name in it).
_INLINE = {
    "python": frozenset({"-c"}),
    "node": frozenset({"-e", "--eval", "-p", "--print"}),
    "ruby": frozenset({"-e"}),
    "perl": frozenset({"-e", "-E"}),
    "java": frozenset(),
    "shell": frozenset({"-c"}),
    "php": frozenset({"-r"}),
}

# Container scopes: docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope,
# libpod-<id>.scope (podman), and bare 64-hex components (/docker/<id>, /kubepods/.../<id>).
# libpod-conmon-<id>.scope (the container monitor, outside the container) does not match.
_CONTAINER = re.compile(
    r"^(?:(?:docker|cri-containerd|containerd|crio|libpod)-)?(?P<id>[0-9a-f]{64})(?:\.scope)?$"
)


@dataclass(frozen=True, slots=True)
class Identity:
    """What a process is: service name, kernel comm, systemd unit, container id (sanitised)."""

    service: str
    comm: str
    unit: str | None = None
    container: str | None = None


def _basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] or path


def _kind(program: str) -> str | None:
    m = _INTERPRETER.fullmatch(program)
    if m is None:
        return None
    kind = m["kind"]
    if kind in _SHELLS:
        return "shell"
    return {"pypy": "python", "nodejs": "node"}.get(kind, kind)


def _java_target(args: list[str]) -> str | None:
    it = iter(args)
    for arg in it:
        if arg == "-jar":
            jar = next(it, None)
            return _basename(jar) if jar else None
        if arg in ("-m", "--module"):
            mod = next(it, None)
            return mod.split("/", 1)[-1] if mod else None  # module/class: the class
        if arg.startswith("--module="):
            return arg.split("=", 1)[1].split("/", 1)[-1] or None
        if arg in _WITH_VALUE["java"]:
            next(it, None)
        elif not arg.startswith("-"):
            return arg  # the main class (or a source file: java Main.java)
    return None


def _script(kind: str, args: list[str]) -> str | None:
    """The script or module an interpreter runs, from its arguments (argv[1:])."""
    if kind == "java":
        return _java_target(args)
    with_value, inline = _WITH_VALUE[kind], _INLINE[kind]
    it = iter(args)
    for arg in it:
        if arg == "--":
            nxt = next(it, None)
            return _basename(nxt) if nxt and nxt != "-" else None
        if arg == "-" or arg in inline:
            return None  # stdin, or code on the command line
        if kind == "python" and arg.startswith("-m") and not arg.startswith("--"):
            return arg[2:] or next(it, None)  # -m module or -mmodule
        if kind == "php" and arg == "-f":
            nxt = next(it, None)
            return _basename(nxt) if nxt else None
        if arg in with_value:
            next(it, None)
        elif kind == "shell" and arg[:1] == "+":
            continue
        elif not arg.startswith("-"):
            return _basename(arg)
    return None


def _argv(cmdline: bytes) -> list[str]:
    return [a.decode("utf-8", "surrogateescape") for a in cmdline.split(b"\0")]


def service_name(cmdline: bytes, comm: bytes) -> str:
    """The service a process is, from the raw contents of /proc/PID/cmdline and comm (sanitised).

    The script or module of an interpreter; else argv[0]'s basename when it starts with ``comm``
    (comm is cut at 15 bytes); else ``comm``. Kernel threads and zombies have an empty cmdline:
    ``comm``.
    """
    name = comm.rstrip(b"\n").decode("utf-8", "surrogateescape")
    argv = _argv(cmdline.rstrip(b"\0")) if cmdline.strip(b"\0") else []
    if argv and argv[0]:
        program = _basename(argv[0])
        kind = _kind(program)
        # A title rewritten into argv[0] ("nginx: worker process") has spaces: not a path.
        if kind is not None and len(argv) > 1:
            target = _script(kind, argv[1:])
            if target:
                return sanitize(target, SERVICE_LIMIT)
        if not name or (" " not in argv[0] and program.startswith(name)):
            name = program
    return sanitize(name, SERVICE_LIMIT)


def _paths(cgroup: bytes) -> list[str]:
    """The cgroup paths of /proc/PID/cgroup, the unified (v2) or systemd hierarchy first."""
    first: list[str] = []
    rest: list[str] = []
    for line in cgroup.decode("utf-8", "surrogateescape").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hier, controllers, path = parts
        (first if hier == "0" or controllers == "name=systemd" else rest).append(path)
    return first + rest


def unit_and_container(cgroup: bytes) -> tuple[str | None, str | None]:
    """The systemd service unit and the short container id in /proc/PID/cgroup, when present.

    The unit is the innermost ``*.service`` of the first path that has one
    (``.../user@1000.service/app.slice/foo.service`` -> ``foo.service``)."""
    unit = container = None
    for path in _paths(cgroup):
        path_unit = None
        for part in path.split("/"):
            m = _CONTAINER.fullmatch(part)
            if m and container is None:
                container = m["id"][:12]
            elif part.endswith(".service") and len(part) > len(".service"):
                path_unit = part
        unit = unit or path_unit
    return (sanitize(unit) if unit else None), container


def identify(cmdline: bytes, comm: bytes, cgroup: bytes = b"") -> Identity:
    """A process's Identity from the contents of its /proc/PID/cmdline, comm and cgroup."""
    unit, container = unit_and_container(cgroup)
    comm_s = sanitize(comm.rstrip(b"\n"))
    return Identity(service_name(cmdline, comm), comm_s, unit, container)


def display(name: str, pid: int, width: int | None = None) -> str:
    """``name[pid]``, at most ``width`` columns when given: the name is elided in the middle
    (``orders…-api.py[4242]``); the PID is never cut, even when it alone is wider."""
    return _elide(name, f"[{pid}]", width)


_SHOWN = re.compile(r"(.*)(\[\d+\])", re.DOTALL)


def fit(shown: str, width: int) -> str:
    """A ``name[pid]`` string as the engine made it (``PeerRow.processes``) in at most ``width``
    columns, elided like ``display``: the trailing ``[pid]`` is kept whole. Any other text is
    elided in the middle."""
    m = _SHOWN.fullmatch(shown)
    return _elide(m[1], m[2], width) if m else _elide(shown, "", width)


def _elide(name: str, tail: str, width: int | None) -> str:
    full = name + tail
    if width is None or cols(full) <= width:
        return full
    room = width - cols(tail)
    if room <= 1:
        return tail or _take(name, width)
    keep = room - 1  # one column for the ellipsis
    head_n, tail_n = (keep + 1) // 2, keep // 2
    head = _take(name, head_n)
    end = _take(name[::-1], tail_n)[::-1]
    return head + ELLIPSIS + end + tail


def _take(text: str, width: int) -> str:
    out, used = [], 0
    for ch in text:
        w = cols(ch)
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "".join(out)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read(READ_LIMIT)


def start_time(stat: bytes) -> int | None:
    """Field 22 of /proc/PID/stat (start time in clock ticks since boot); comm may hold spaces
    and parentheses, so fields are counted after the last ')'."""
    end = stat.rfind(b")")
    fields = stat[end + 2 :].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


class IdentityCache:
    """Identities of live processes, read once per (pid, start time); at most ``size`` kept."""

    def __init__(self, proc: str = "/proc", size: int = CACHE_SIZE) -> None:
        self.proc = proc
        self.size = size
        self._cache: OrderedDict[tuple[int, int], Identity] = OrderedDict()
        self.reads = 0  # processes whose files were read (cache misses)

    def __len__(self) -> int:
        return len(self._cache)

    def get(self, pid: int) -> Identity | None:
        """The Identity of ``pid``, or None when it is gone or unreadable."""
        base = f"{self.proc}/{pid}"
        try:
            started = start_time(_read(f"{base}/stat"))
        except OSError:
            return None
        if started is None:
            return None
        key = (pid, started)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        try:
            cmdline, comm = _read(f"{base}/cmdline"), _read(f"{base}/comm")
        except OSError:
            return None
        try:
            cgroup = _read(f"{base}/cgroup")
        except OSError:
            cgroup = b""
        ident = identify(cmdline, comm, cgroup)
        self.reads += 1
        self._cache[key] = ident
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return ident


__all__ = [
    "CACHE_SIZE",
    "Identity",
    "IdentityCache",
    "display",
    "fit",
    "identify",
    "service_name",
    "start_time",
    "unit_and_container",
]
