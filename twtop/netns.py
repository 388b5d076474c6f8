"""Network namespaces: resolve NAME|PID|PATH and run code inside one on the calling thread.

setns(2) on a network namespace changes only the calling thread, so the collector can enter a
namespace for a poll (netlink socket creation, /proc/thread-self/net, /proc/sys/net) and leave it.
A netlink socket stays in the namespace it was created in, whatever the thread does later.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from twtop.errors import UnavailableError, UsageError
from twtop.safe import sanitize

CLONE_NEWNET = 0x40000000
NS_GET_NSTYPE = 0xB703  # _IO(0xb7, 0x3), <linux/nsfs.h>: the type of a namespace file
NETNS_RUN_DIR = "/run/netns"

_libc: ctypes.CDLL | None = None


def _setns(fd: int) -> None:
    setns = getattr(os, "setns", None)  # Python 3.12+
    if setns is not None:
        setns(fd, CLONE_NEWNET)
        return
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def resolve(spec: str) -> str:
    """Turn ``--netns NAME|PID|PATH`` into a path to a namespace file, or raise.

    Only a network namespace file is accepted: it is opened non-blocking (a FIFO cannot hang
    twtop) and asked its type (NS_GET_NSTYPE); anything else is refused before it is used.
    """
    if not spec.strip():
        raise UsageError("--netns: empty namespace name (omit it to watch this host's)")
    if "\0" in spec:
        raise UsageError("--netns: contains a NUL character")
    spec = spec.strip()
    shown = sanitize(spec)  # echoed in messages: data, never terminal control
    if spec.isdigit():
        path = f"/proc/{spec}/ns/net"
        what = f"process {shown}"
    elif "/" in spec:
        path = spec
        what = shown
    else:
        path = os.path.join(NETNS_RUN_DIR, spec)
        what = f"'{shown}' ({sanitize(path)})"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError:
        raise UnavailableError(f"network namespace {what} not found") from None
    except PermissionError:
        raise UnavailableError(f"permission denied opening network namespace {what}") from None
    except OSError as exc:
        raise UnavailableError(f"cannot open network namespace {what}: {exc.strerror}") from None
    try:
        kind = fcntl.ioctl(fd, NS_GET_NSTYPE)
    except OSError:
        kind = None
    finally:
        os.close(fd)
    if kind != CLONE_NEWNET:
        raise UsageError(f"--netns: {what} is not a network namespace")
    return path


def inode_of(path: str | None) -> int:
    """The namespace's inode number (what `ip netns identify` and `lsns` show)."""
    return os.stat(path or "/proc/thread-self/ns/net").st_ino


@contextmanager
def entered(path: str | None) -> Iterator[None]:
    """Run the body with the calling thread inside the namespace at ``path`` (None: stay put)."""
    if path is None:
        yield
        return
    try:
        target = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise UnavailableError(f"network namespace {path} is gone") from None
    except OSError as exc:
        raise UnavailableError(f"cannot open network namespace {path}: {exc.strerror}") from None
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            _setns(target)
        except OSError as exc:
            if exc.errno == errno.EPERM:
                raise UnavailableError(
                    f"permission denied entering network namespace {path} (needs CAP_SYS_ADMIN)"
                ) from None
            raise UnavailableError(
                f"cannot enter network namespace {path}: {exc.strerror}"
            ) from None
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(target)
        os.close(home)
