"""Single-writer lock for an embedded Chroma directory (``filelock``, so it works on every OS).

Chroma's embedded (PersistentClient) mode is not safe for several writing
processes. Writers take an exclusive, non-blocking lock on
``<chroma_dir>/.writer.lock`` and write their pid to ``<chroma_dir>/.writer.pid``
so that a second writer's error can name the holder. The lock is re-entrant
within a process (one shared lock object per path).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from filelock import FileLock, Timeout

from micromarket.errors import IndexLockedError

LOCK_NAME = ".writer.lock"
PID_NAME = ".writer.pid"

_guard = threading.RLock()  # the outermost acquire/release writes/removes the pid file


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
        self.pid_path = self.dir / PID_NAME
        # is_singleton: every WriterLock on this path shares one re-entrant lock; thread_local=False: across threads too
        self._lock = FileLock(str(self.path.resolve()), timeout=0, thread_local=False, is_singleton=True)

    def acquire(self) -> None:
        with _guard:
            self.dir.mkdir(parents=True, exist_ok=True)
            try:
                self._lock.acquire()
            except Timeout:
                raise IndexLockedError(locked_message(self.dir, _read_holder(self.pid_path))) from None
            if self._lock.lock_counter == 1:
                self.pid_path.write_text(f"{os.getpid()}\n", encoding="utf-8")

    def release(self) -> None:
        with _guard:
            if not self._lock.is_locked:
                return
            if self._lock.lock_counter == 1:
                self.pid_path.unlink(missing_ok=True)
            self._lock.release()

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
