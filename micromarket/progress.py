"""Rich progress bars for the CLI, the Python API and benchmarks.

Lower layers never render: they take a ``progress(done, total)`` callback
(``capability_index.index.ProgressFn``); this module turns one into a bar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


class _Bar:
    def __init__(self, label: str):
        self.label = label
        self._bar = None
        self._task = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
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
