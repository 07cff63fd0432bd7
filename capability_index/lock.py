"""Single-writer lock for an embedded Chroma directory.

Chroma's embedded (PersistentClient) mode is not safe for several writing
processes. Writers take an exclusive, non-blocking ``flock`` on
``<chroma_dir>/.writer.lock``; the holder's pid is written into the file so the
second writer's error can name it. The lock is re-entrant within a process
(flock locks belong to open file descriptions, so a second ``open`` in the same
process would otherwise conflict with itself).
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from micromarket.errors import IndexLockedError

LOCK_NAME = ".writer.lock"

_held: dict[str, tuple[int, int]] = {}  # path -> (fd, depth)
_guard = threading.RLock()


def _read_holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return "unknown"
    return text.split()[0] if text else "unknown"


def locked_message(chroma_dir: Path, holder: str) -> str:
    return (
        f"the capability index at {chroma_dir} is being written by another process (pid {holder}). "
        "Embedded Chroma allows a single writer per directory. Wait for it to finish, or run Chroma "
        f"in server mode so several processes can share it: `chroma run --path {chroma_dir} "
        "--host 127.0.0.1 --port 8000` and set MICROMARKET_CHROMA_URL=http://127.0.0.1:8000."
    )


class WriterLock:
    """``with WriterLock(chroma_dir): ...`` — raises IndexLockedError if another process holds it."""

    def __init__(self, chroma_dir: str | os.PathLike[str]):
        self.dir = Path(chroma_dir)
        self.path = self.dir / LOCK_NAME
        self._key = str(self.path.resolve()) if self.path.parent.exists() else str(self.path.absolute())

    def acquire(self) -> None:
        with _guard:
            held = _held.get(self._key)
            if held is not None:
                _held[self._key] = (held[0], held[1] + 1)
                return
            self.dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise IndexLockedError(locked_message(self.dir, _read_holder(self.path))) from None
            except BaseException:
                os.close(fd)
                raise
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            _held[self._key] = (fd, 1)

    def release(self) -> None:
        with _guard:
            held = _held.get(self._key)
            if held is None:
                return
            fd, depth = held
            if depth > 1:
                _held[self._key] = (fd, depth - 1)
                return
            del _held[self._key]
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class NullLock:
    """No-op lock for server (HttpClient) mode, where Chroma serialises writes itself."""

    def __enter__(self) -> NullLock:
        return self

    def __exit__(self, *exc) -> None:
        return None
