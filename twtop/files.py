"""Every file twtop writes goes through here: private, never over a file, never via a symlink.

twtop runs as root exactly when a machine is in trouble, often in a directory other users can
write to. So nothing is written with a plain ``open(path, "w")``:

- reports, screenshots and notes go to a private state directory (``state_dir()``: mode 0700,
  owned by the user running twtop, ``$XDG_STATE_HOME/twtop`` or ``~/.local/state/twtop`` unless
  configured);
- a new file is created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` and mode 0600 under a unique name
  (``write_new``): an existing file or a planted symlink is never opened; ``-1``, ``-2`` ...
  pick the next free name;
- a file replaced on every run (the Prometheus textfile) is written to a temporary file in the
  same directory and renamed over the target (``write_atomic``), refusing a target that is a
  symlink or not a regular file.

Every file is opened relative to a descriptor of its directory, so the directory cannot be
swapped for a symlink between the checks and the write.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat

from twtop.errors import TwtopError

#: How many numbered names ``write_new`` tries before giving up.
MAX_TRIES = 1000

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class UnsafeFileError(TwtopError):
    """A file twtop was asked to write is not safe to write, or could not be written."""


def default_state_dir() -> str:
    """``$XDG_STATE_HOME/twtop``, else ``~/.local/state/twtop`` (the XDG base-directory default)."""
    base = os.environ.get("XDG_STATE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec says relative values are ignored
        base = os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "twtop")


def safe_name(text: str, limit: int = 64) -> str:
    """``text`` reduced to a file-name fragment: letters, digits, ``.``, ``_`` and ``-`` only."""
    name = _UNSAFE_NAME.sub("_", text).strip("._")[:limit]
    return name or "unknown"


def _open_dir(path: str) -> int:
    """A descriptor of directory ``path`` whose last component is not a symlink."""
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafeFileError(
                f"{path} is a symlink or not a directory; refusing to write"
            ) from None
        raise UnsafeFileError(f"cannot open directory {path}: {exc.strerror}") from None


def state_dir(configured: str | None = None) -> str:
    """The private directory for twtop's files: created 0700 if missing, refused if shared.

    An existing directory must be a real directory (not a symlink), owned by the user running
    twtop, and not writable by group or others; a missing one is created with mode 0700.
    """
    path = os.path.abspath(os.path.expanduser(configured or default_state_dir()))
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except FileExistsError:
        pass  # a symlink or a file: _open_dir says which
    except OSError as exc:
        raise UnsafeFileError(f"cannot create state directory {path}: {exc.strerror}") from None
    fd = _open_dir(path)
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid():
            raise UnsafeFileError(
                f"state directory {path} belongs to uid {st.st_uid}, not to you; refusing to write"
            )
        if st.st_mode & 0o022:
            raise UnsafeFileError(
                f"state directory {path} is writable by other users; use a private one (mode 0700)"
            )
    finally:
        os.close(fd)
    return path


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def write_new(stem: str, suffix: str, data: bytes | str, directory: str | None = None) -> str:
    """Write ``data`` to a NEW file ``<stem><suffix>`` (or ``<stem>-N<suffix>``); return its path.

    ``directory`` defaults to ``state_dir()``; it is checked the same way when given. The file is
    created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` and mode 0600: an existing name, including a
    planted symlink, is skipped, never opened.
    """
    folder = state_dir(directory)
    stem, suffix = safe_name(stem), suffix if suffix.startswith(".") else f".{suffix}"
    payload = _as_bytes(data)
    dfd = _open_dir(folder)
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        for n in range(MAX_TRIES):
            name = f"{stem}{suffix}" if n == 0 else f"{stem}-{n}{suffix}"
            try:
                fd = os.open(name, flags, 0o600, dir_fd=dfd)
            except FileExistsError:
                continue
            except OSError as exc:
                raise UnsafeFileError(f"cannot create {folder}/{name}: {exc.strerror}") from None
            path = os.path.join(folder, name)
            try:
                _write_all(fd, payload)
                os.fsync(fd)
            except OSError as exc:
                os.close(fd)
                os.unlink(name, dir_fd=dfd)
                raise UnsafeFileError(f"cannot write {path}: {exc.strerror}") from None
            os.close(fd)
            return path
        raise UnsafeFileError(f"{folder}: {MAX_TRIES} files named {stem}*{suffix} exist already")
    finally:
        os.close(dfd)


def write_atomic(path: str, data: bytes | str, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` atomically: a temporary file in its directory, then rename.

    Readers (node_exporter's textfile collector) see the old or the new content, never a partial
    one. A target that is a symlink or not a regular file is refused; the temporary file is created
    with ``O_EXCL | O_NOFOLLOW`` and ``mode`` (default 0600), so nothing is followed.
    """
    path = os.path.abspath(path)
    folder, name = os.path.split(path)
    if not name:
        raise UnsafeFileError(f"{path} names a directory, not a file")
    dfd = _open_dir(folder)
    try:
        try:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise UnsafeFileError(f"cannot check {path}: {exc.strerror}") from None
        else:
            if stat.S_ISLNK(st.st_mode):
                raise UnsafeFileError(f"{path} is a symlink; refusing to replace it")
            if not stat.S_ISREG(st.st_mode):
                raise UnsafeFileError(f"{path} is not a regular file; refusing to replace it")
        payload = _as_bytes(data)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        for n in range(MAX_TRIES):
            tmp = f".{name}.{os.getpid()}.{n}.tmp"
            try:
                fd = os.open(tmp, flags, 0o600, dir_fd=dfd)
                break
            except FileExistsError:
                continue
            except OSError as exc:
                raise UnsafeFileError(f"cannot create a file in {folder}: {exc.strerror}") from None
        else:
            raise UnsafeFileError(f"{folder}: cannot find a free temporary name")
        try:
            _write_all(fd, payload)
            if mode != 0o600:
                os.fchmod(fd, mode)
            os.fsync(fd)
            os.close(fd)
            fd = -1
            os.rename(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except OSError as exc:
            if fd >= 0:
                os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dfd)
            raise UnsafeFileError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        os.close(dfd)


__all__ = [
    "UnsafeFileError",
    "default_state_dir",
    "safe_name",
    "state_dir",
    "write_atomic",
    "write_new",
]
