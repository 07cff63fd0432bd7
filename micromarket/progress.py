"""Rich progress bars for the CLI, the Python API and benchmarks.

Lower layers never render: they take a ``progress(done, total)`` callback
(``capability_index.index.ProgressFn``); this module turns one into a bar.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def _caller_stream():
    """stdout as the calling thread sees it. The bar redraws from its own thread; in the CLI daemon, sys.stdout routes
    each command thread's writes to that command's client, so the bar keeps the caller's stream (``bound()``) instead
    of writing from its thread into the daemon's log."""
    bound = getattr(sys.stdout, "bound", None)
    return bound() if callable(bound) else sys.stdout


class _Bar:
    def __init__(self, label: str):
        self.label = label
        self._bar = None
        self._task = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            from rich.console import Console  # deferred: rich
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            out = _caller_stream()
            console = Console(file=out, width=getattr(out, "columns", None))
            own = out is sys.stdout  # a daemon's client: rich must not swap the process's sys.stdout for all commands
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                 console=console, redirect_stdout=own, redirect_stderr=own)
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=total)
        self._bar.update(self._task, completed=done, total=total)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


@contextmanager
def progress_bar(enabled: bool = True, label: str = "indexing capabilities") -> Iterator[Callable[[int, int], None] | None]:
    """``with progress_bar(show) as cb: index.rebuild(cards, progress=cb)`` — None when disabled; the bar
    appears on the first report and is always stopped on exit."""
    if not enabled:
        yield None
        return
    bar = _Bar(label)
    try:
        yield bar
    finally:
        bar.stop()
