"""The one exception root of tumbler, and the few subclasses that carry data.

Everything tumbler raises on purpose derives from :class:`TumblerError`. The CLI
turns these into one clear line and an exit code; anything else escaping is a bug.
"""

from __future__ import annotations

__all__ = [
    "CacheError",
    "InputError",
    "LockInvalidError",
    "NetworkError",
    "ResolutionError",
    "TumblerError",
    "UsageError",
]


class TumblerError(Exception):
    """Root of every error tumbler raises on purpose."""

    #: Exit code the CLI uses when this error reaches it.
    exit_code: int = 2


class UsageError(TumblerError):
    """The command line asks for something that cannot be done (exit 2)."""


class InputError(TumblerError):
    """An input cannot be read or parsed: missing, a directory, not TOML, too big (exit 2).

    ``rule`` names the checklist rule when one applies (``R5`` for "not TOML").
    """

    def __init__(self, message: str, *, rule: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule


class LockInvalidError(TumblerError):
    """A lock file breaks the standard so that a command cannot use it (exit 2).

    ``findings`` holds every error found, for the caller to render.
    """

    def __init__(self, origin: str, findings: tuple[object, ...]) -> None:
        count = len(findings)
        super().__init__(
            f"{origin}: not a valid lock file ({count} error{'s' if count != 1 else ''}); "
            f"run 'tumbler validate {origin}' for details"
        )
        self.origin = origin
        self.findings = findings


class NetworkError(TumblerError):
    """An index or file host cannot be reached, or refuses us, or is not cached offline (exit 2)."""


class ResolutionError(TumblerError):
    """No set of versions satisfies the project; the message explains the conflict (exit 2)."""


class UnsupportedTargetError(ResolutionError):
    """A package the target needs has no file for it at all (a universal lock's target)."""


class CacheError(TumblerError):
    """The cache changed under a running command (another process cleaned it): run again
    (exit 2)."""
