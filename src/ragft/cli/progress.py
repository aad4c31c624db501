"""The CLI's drawing of library progress callbacks (ragft.rag.progress, ragft.evaluate.progress, the training steps
of ragft.finetune): a transient rich bar over files, answers or steps, a spinner while the store compacts. Off
(nothing drawn) for --json output."""
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
    its label); `with StageProgress(enabled) as on_progress: train_retriever(..., on_progress=on_progress)`.
    `stream`: where to draw (default stderr)."""

    def __init__(self, enabled: bool = True, stream=None):
        self.enabled = enabled
        self._stream = stream
        self._bar = self._task = None
        self._stage = ""

    def __enter__(self) -> StageProgress:
        return self

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if stage != self._stage:
            self.stop()
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn(stage), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[note]}"), TimeRemainingColumn(),
                                 console=Console(file=self._stream) if self._stream else Console(stderr=True),
                                 transient=True)
            self._bar.start()
            self._task, self._stage = self._bar.add_task(stage, total=total, note=""), stage
        self._bar.update(self._task, completed=done, total=total)

    def note(self, text: str) -> None:
        """Text beside the current stage's bar: `train_lora(..., on_progress=shown, on_step=lambda step, loss:
        shown.note(f"loss {loss:.3f}"))`."""
        if self._bar is not None:
            self._bar.update(self._task, note=text)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar, self._stage = None, ""

    def __exit__(self, *exc) -> None:
        self.stop()


class TuneProgress(SyncProgress):
    """SyncProgress plus a bar over the settings `ragft eval tune` scores (stage "tuning"); sibling indexes'
    syncs draw as SyncProgress does."""

    def __init__(self, enabled: bool = True):
        super().__init__(enabled)
        self._scoring = StageProgress(enabled)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != "tuning":
            return super().__call__(stage, done, total)
        self._scoring("scoring settings", done, total)

    def __exit__(self, *exc) -> None:
        self._scoring.__exit__(*exc)
        super().__exit__(*exc)


class EvalProgress:
    """`with EvalProgress(enabled) as on_progress: run_eval(config, on_progress=on_progress)` (or run_study). On a
    terminal a line per stage, a transient rich bar while answering or training an adapter and the sync's bar while
    indexing; elsewhere (a CI log, a file) the library's plain lines (ragft.evaluate.progress.plain_reporter)."""

    def __init__(self, enabled: bool = True, stream=None):
        import sys

        from ragft.evaluate.progress import plain_reporter

        self.enabled = enabled
        self._stream = stream or sys.stderr
        self._plain = None if self._stream.isatty() else plain_reporter(self._stream)
        self._sync = SyncProgress(enabled)
        self._counted = StageProgress(enabled, self._stream)      # answering, training: a bar with the system

    def __enter__(self) -> "EvalProgress":
        return self

    def __call__(self, stage: str, done: int, total: int, note: str) -> None:
        from ragft.evaluate.progress import COUNTED, SYNC_STAGES

        if not self.enabled:
            return
        if self._plain is not None:
            return self._plain(stage, done, total, note)
        if stage in SYNC_STAGES:
            return self._sync(stage, done, total)
        if done == 0:
            self._counted.stop()
            print(f"ragft: {note}", file=self._stream, flush=True)
        elif stage in COUNTED:
            self._advance(stage, done, total, note)

    def _advance(self, stage: str, done: int, total: int, system: str) -> None:
        self._counted(stage, done, total)
        self._counted.note(system)
        if done >= total:
            self._counted.stop()

    def __exit__(self, *exc) -> None:
        self._counted.stop()
        self._sync.__exit__(*exc)
