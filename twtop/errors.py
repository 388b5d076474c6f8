"""Errors twtop reports to a person in one line, each with the exit code the CLI uses."""

from __future__ import annotations

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 69  # EX_UNAVAILABLE: sock_diag missing, namespace not found, permission denied


class TwtopError(Exception):
    """An error with a one-line message for a person and an exit code."""

    exit_code = EXIT_RUNTIME


class UsageError(TwtopError):
    """The user asked for something malformed (bad flag value, bad filter)."""

    exit_code = EXIT_USAGE


class UnavailableError(TwtopError):
    """What twtop needs is not there: sock_diag, the namespace, or the permission to use them."""

    exit_code = EXIT_UNAVAILABLE
