"""What the long-running commands show on a terminal (rich): the batch's progress bar and summary, the
dictation being recorded, the state of ``serve``. Data comes in as records; the words are made here.

On a terminal the displays refresh in place; where the output is a file or a pipe (cron, systemd,
tests) they print nothing while running, and the final summary as plain lines.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from transcribe.records import format_duration

if TYPE_CHECKING:
    from transcribe.batch import BatchSummary
    from transcribe.batch import Progress as BatchProgress
    from transcribe.intake.dictation import DictationDetails, Recording


def console(stderr: bool = False) -> Console:
    """The console a command writes to (no colour codes when it is not a terminal)."""
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


class BatchDisplay:
    """The batch's progress bar: dictations done (and failed), audio hours, speed, time spent and left."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("[bold]batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]}"),
            TextColumn("{task.fields[audio]}"),
            TextColumn("{task.fields[speed]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=console(),
            transient=False,
        )
        self._task = self._progress.add_task("batch", total=None, failed="", audio="", speed="")
        self._progress.start()

    def update(self, progress: BatchProgress) -> None:
        """Show where the batch stands."""
        self._progress.update(
            self._task,
            total=progress.total_files,
            completed=progress.files_done,
            failed=f"[red]{progress.files_failed} failed[/]" if progress.files_failed else "",
            audio=f"{progress.audio_done_s / 3600:.2f} h of audio",
            speed=f"{progress.speed:.1f} audio-min/min",
        )

    def close(self) -> None:
        """Stop refreshing the bar, leaving its last state on screen."""
        self._progress.stop()


def print_batch_summary(summary: BatchSummary, report: str) -> None:
    """The batch's closing summary: what was done, how fast, what failed and why, where the report lies."""
    out = console()
    data = summary.to_json()
    verdict = "[green]done[/]" if not summary.failures else f"[red]{summary.files_failed} failed[/]"
    out.print(
        f"batch: {summary.files_done} dictations transcribed, {summary.files_failed} failed; "
        f"{summary.audio_s / 60:.1f} min of audio in {summary.wall_s / 60:.1f} min "
        f"({data['audio_hours_per_hour']} audio-hours per hour){'; interrupted' if summary.interrupted else ''}"
        f" — {verdict}"
    )
    if summary.failures:
        table = Table("job", "state", "reason", show_edge=False, box=None, pad_edge=False)
        for failure in summary.failures:
            table.add_row(str(failure["job"]), str(failure["state"]), str(failure["reason"]))
        out.print(table)
    out.print(f"summary: {report}")


_STATES = {
    "ready": "[dim]○ ready[/]",
    "recording": "[bold red]● recording[/]",
    "paused": "[yellow]❚❚ paused[/]",
    "stopped": "[dim]■ stopped[/]",
}


class DictationDisplay:
    """The dictation being recorded: state, length, input level, the keys."""

    def __init__(self, details: DictationDetails) -> None:
        who = details.author + (f", patient {details.patient_id}" if details.patient_id else "")
        who += f", {details.worktype}" if details.worktype else ""
        who += ", [bold]urgent[/]" if details.urgent else ""
        self._header = f"dictation by {who}"
        self._console = console()
        self._live = Live(Text(""), console=self._console, refresh_per_second=10, transient=False)
        self._live.start()

    def show(self, recording: Recording) -> None:
        """Draw the recording's state now."""
        from transcribe.intake.dictation import level_meter

        elapsed = int(recording.elapsed_s)
        line = (
            f"{self._header}\n{_STATES.get(recording.state, recording.state)}  {elapsed // 60:02d}:{elapsed % 60:02d}"
            f"  [green]{level_meter(recording.level_db)}[/]   space: pause/resume  enter: send  q: discard"
        )
        self._live.update(Text.from_markup(line))

    def close(self) -> None:
        """Stop refreshing, leaving the last state on screen."""
        self._live.stop()


def print_dictation_sent(path: object, duration_s: float, details: DictationDetails) -> None:
    """What was sent, and where."""
    extra = ", urgent" if details.urgent else ""
    console().print(
        f"[green]dictation sent[/]: {path} ({format_duration(duration_s) or '0:00'}{extra}); "
        "the service takes it from the inbox"
    )


class ServiceDisplay:
    """``serve`` on a terminal: one status line under the log (queue, what its worker did, the review app).

    While it is drawn, the log's lines go through its console, above the line.
    """

    def __init__(self) -> None:
        self._console = console(stderr=True)
        self.active = self._console.is_terminal
        self._live = Live(Text(""), console=self._console, refresh_per_second=2, transient=True)
        self._handlers: list[logging.StreamHandler[Any]] = []
        if self.active:
            self._live.start()
            for handler in logging.getLogger().handlers:
                if isinstance(handler, logging.StreamHandler) and handler.stream is sys.__stderr__:
                    handler.setStream(sys.stderr)  # rich's proxy while the line is drawn
                    self._handlers.append(handler)

    def show(self, line: str) -> None:
        """Replace the status line."""
        if self.active:
            text = Text.from_markup(line, overflow="ellipsis")
            text.no_wrap = True
            self._live.update(text)

    def close(self) -> None:
        """Remove the status line; the log writes to the terminal again."""
        if self.active:
            self._live.stop()
            for handler in self._handlers:
                handler.setStream(sys.__stderr__)


def print_service_summary(lasted_s: float, tally: Mapping[str, int], waiting: int | None) -> None:
    """``serve``'s closing words: how long it ran, what its worker did, what still waits."""
    done = ", ".join(f"{count} {state}" for state, count in sorted(tally.items())) or "no dictation transcribed"
    left = "the job store did not answer" if waiting is None else f"{waiting} waiting in the queue"
    console(stderr=True).print(f"serve stopped after {_lasted(lasted_s)}: {done}; {left}")


def _lasted(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"
