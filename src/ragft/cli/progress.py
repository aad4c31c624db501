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


class TuneProgress(SyncProgress):
    """SyncProgress plus a bar over the settings `ragft eval tune` scores (stage "tuning"); sibling indexes'
    syncs draw as SyncProgress does."""

    def __init__(self, enabled: bool = True):
        super().__init__(enabled)
        self._tune_bar = self._tune_task = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != "tuning":
            return super().__call__(stage, done, total)
        if not self.enabled:
            return
        if self._tune_bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._tune_bar = Progress(TextColumn("scoring settings"), BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self._tune_bar.start()
            self._tune_task = self._tune_bar.add_task("tuning", total=total)
        self._tune_bar.update(self._tune_task, completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if self._tune_bar is not None:
            self._tune_bar.stop()
            self._tune_bar = None
        super().__exit__(*exc)
