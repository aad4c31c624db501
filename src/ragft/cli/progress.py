"""The CLI's drawing of library progress callbacks (ragft.rag.progress): a transient rich bar over files, a spinner
while the store compacts. Off (nothing drawn) for --json output."""
from __future__ import annotations

from ragft.rag.progress import COMPACTING, INDEXING


class SyncProgress:
    """`with SyncProgress(enabled) as on_progress: index.sync(..., on_progress=on_progress)`."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._bar = self._task = self._spinner = None

    def __enter__(self) -> "SyncProgress":
        return self

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if stage == INDEXING:
            self._advance(done, total)
        elif stage == COMPACTING:
            self._stop_bar()
            if done < total:
                from rich.console import Console

                self._spinner = Console(stderr=True).status(
                    "compacting the store (and building its vector index past the ANN threshold: minutes at 1M chunks)")
                self._spinner.start()
            else:
                self._stop_spinner()

    def _advance(self, done: int, total: int) -> None:
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                 console=Console(stderr=True), transient=True)
            self._bar.start()
            self._task = self._bar.add_task("indexing", total=total)
        self._bar.update(self._task, completed=done, total=total)

    def _stop_bar(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _stop_spinner(self) -> None:
        if self._spinner is not None:
            self._spinner.stop()
            self._spinner = None

    def __exit__(self, *exc) -> None:
        self._stop_bar()
        self._stop_spinner()


class StageProgress:
    """A transient rich bar per stage of a library `on_progress(stage, done, total)` callback (the stage name is
    its label); `with StageProgress(enabled) as on_progress: train_retriever(..., on_progress=on_progress)`."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._bar = self._task = None
        self._stage = ""

    def __enter__(self) -> StageProgress:
        return self

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if stage != self._stage:
            self._stop()
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn(stage), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                 console=Console(stderr=True), transient=True)
            self._bar.start()
            self._task, self._stage = self._bar.add_task(stage, total=total), stage
        self._bar.update(self._task, completed=done, total=total)

    def _stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar, self._stage = None, ""

    def __exit__(self, *exc) -> None:
        self._stop()
