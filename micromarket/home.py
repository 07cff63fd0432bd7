"""The data directory ("home"): a directory the user means, never a system directory.

:func:`prepare_home` resolves the path, refuses system directories and paths that are not writable
directories (naming the path and the reason), and creates a missing home with its parents, saying so.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from micromarket.errors import InputError

log = logging.getLogger("micromarket.home")

# Never a home, nor anything inside them.
_SYSTEM_TREES = ("/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/dev", "/proc", "/sys",
                 "/run", "/snap", "/System", "/Library", "/Applications", "/private/etc", "/private/var/db")
# Never a home themselves (their subdirectories are fine: /var/lib/micromarket, /tmp/x, /srv/mm).
_SYSTEM_ROOTS = ("/", "/var", "/var/lib", "/var/log", "/tmp", "/home", "/root", "/opt", "/srv", "/mnt", "/media", "/Users",
                 "/Volumes", "/private", "/private/tmp", "/private/var")


def _under(p: Path, tree: str) -> bool:
    return p == Path(tree) or Path(tree) in p.parents


def check_home(path: str | os.PathLike) -> Path:
    """The resolved home, or :class:`InputError` naming the path and why it cannot be one."""
    try:
        raw = os.fspath(path)
    except TypeError:
        raise InputError(f"home must be a path, got {type(path).__name__}") from None
    if not raw or not str(raw).strip() or "\x00" in str(raw):
        raise InputError("home must be a non-empty path")
    p = Path(raw).expanduser().resolve()
    user_home = Path.home().resolve()
    if any(_under(p, t) for t in _SYSTEM_TREES) or str(p) in _SYSTEM_ROOTS or p == user_home:
        raise InputError(f"refusing to use {p} as the micromarket home: it is a system or shared directory; "
                         f"choose a directory of its own, e.g. {user_home / '.micromarket'}")
    if p.exists() and not p.is_dir():
        raise InputError(f"the micromarket home {p} exists and is not a directory")
    return p


def prepare_home(path: str | os.PathLike) -> Path:
    """Check the home and create it when missing (logging that it did); refuse one that is not writable."""
    p = check_home(path)
    if not p.exists():
        try:
            p.mkdir(parents=True, mode=0o700)
        except OSError as e:
            raise InputError(f"cannot create the micromarket home {p}: {e.strerror or e}") from None
        log.warning("created a new micromarket home at %s", p)
    if not os.access(p, os.W_OK | os.X_OK):
        raise InputError(f"the micromarket home {p} is not writable by this user")
    return p


__all__ = ["check_home", "prepare_home"]
