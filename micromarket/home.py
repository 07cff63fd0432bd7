"""The data directory ("home"): a directory the user means, never a system directory.

:func:`prepare_home` resolves the path, refuses system directories and paths that are not writable
directories (naming the path and the reason), and creates a missing home with its parents, saying so.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from micromarket.errors import InputError, MicromarketError

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


TOKEN_FILE = "token"  # the HTTP front door's bearer token: written by micromarket.server.auth, read by it and the daemon client


class TokenFileError(MicromarketError):
    """The token file cannot be used; the message names the file and the fix."""


def read_token(path: Path) -> str:
    """The bearer token in ``path``; refuses a file that is not regular, readable by others, or too short."""
    try:
        st = path.stat()
    except OSError as e:
        raise TokenFileError(f"cannot read the token file {path}: {e.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise TokenFileError(f"the token file {path} is not a regular file")
    if st.st_mode & 0o077:
        raise TokenFileError(f"the token file {path} is readable by others (mode {stat.S_IMODE(st.st_mode):03o}); "
                             f"run `chmod 600 {path}` or delete it to have a new one made")
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise TokenFileError(f"cannot read the token file {path}: {e}") from None
    if len(token) < 16:
        raise TokenFileError(f"the token file {path} holds no usable token (at least 16 characters); delete it to have a new one made")
    return token


__all__ = ["check_home", "prepare_home", "TOKEN_FILE", "TokenFileError", "read_token"]
