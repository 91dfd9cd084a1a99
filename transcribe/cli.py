"""The ``transcribe`` command. Only this module turns errors into messages and exit codes."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import __version__
from .errors import ConfigurationError, IdentityMismatch, TranscribeError
from .records import JobState, format_duration
from .settings import LoadedSettings, Settings, describe, load_settings
from .store import JobStore, open_store
from .worktypes import WORKTYPES

log = logging.getLogger("transcribe")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``transcribe`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    os.umask(0o077)  # everything the pipeline writes holds patient data: private to its user
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        loaded = load_settings(args.config, flags=_flags(args))
        _configure_logging(loaded.settings, args)
        return int(args.handler(args, loaded))
    except ConfigurationError as e:
        print(f"transcribe: configuration error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except TranscribeError as e:
        print(f"transcribe: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into head or less, closed early
        sys.stderr.close()
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="transcribe",
        description="Medical dictation: inbox -> transcription -> draft report -> review -> patient record.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config", type=Path, help="settings file (default: ./transcribe.toml if present)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more (DEBUG)")
    parser.add_argument("-q", "--quiet", action="store_true", help="log only warnings and errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="watch the inbox and transcribe what arrives")
    _model_options(serve)
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser("worker", help="only transcribe queued jobs (no watcher, no web app): a worker host")
    _model_options(worker)
    worker.set_defaults(handler=_worker)

    run = commands.add_parser("run", help="transcribe the given files now and print the text")
    run.add_argument("files", nargs="+", type=Path, metavar="FILE")
    run.add_argument("--author", help="author of the dictations (default: intake.default_author)")
    run.add_argument("--json", action="store_true", help="print the whole transcript as JSON")
    run.add_argument("--raw", action="store_true", help="print the engine's raw text, before the text layer")
    _model_options(run)
    run.set_defaults(handler=_run)

    batch = commands.add_parser("batch", help="transcribe every waiting dictation now, as fast as possible, then exit")
    batch.add_argument("--quiet", dest="quiet_batch", action="store_true", help="no progress display (for cron)")
    batch.add_argument("--batch-size", type=int, help="speech clips per engine batch (default: batch.batch_size)")
    batch.add_argument("--window", type=int, help="dictations transcribed together (default: batch.window_files)")
    batch.add_argument("--processes", type=int, help="engine processes (default: batch.processes; 0 = best measured)")
    batch.add_argument("--helper", type=Path, help=argparse.SUPPRESS)  # one of the processes a batch starts
    _model_options(batch)
    batch.set_defaults(handler=_batch)

    dictate = commands.add_parser("dictate", help="record a dictation from the microphone into the inbox")
    dictate.add_argument("--list-devices", action="store_true", help="list the sound inputs and exit")
    dictate.add_argument("--device", type=int, help="sound input number (see --list-devices)")
    dictate.add_argument("--author", help="who dictates (default: asked, or intake.default_author)")
    dictate.add_argument("--patient", help="patient id in the index")
    dictate.add_argument("--worktype", choices=WORKTYPES)
    dictate.add_argument("--urgent", action="store_true")
    dictate.add_argument("--language", choices=["fr", "en"])
    dictate.add_argument("--format", dest="audio_format", choices=["flac", "wav"], default="flac")
    dictate.set_defaults(handler=_dictate)

    text = commands.add_parser("text", help="run the medical text layer on plain text or a transcript JSON")
    text.add_argument("file", nargs="?", type=Path, metavar="FILE", help="text or transcript.json (default: stdin)")
    text.add_argument("--lang", choices=["fr", "en"], help="language of plain text (a transcript names its own)")
    text.add_argument("--json", action="store_true", help="print the text, the edits and the flags as JSON")
    text.set_defaults(handler=_text)

    jobs = commands.add_parser("jobs", help="list jobs with their state, author, duration and age")
    jobs.add_argument("--state", choices=[s.value for s in JobState], help="only jobs in this state")
    jobs.add_argument("--limit", type=int, default=50, help="how many of the newest jobs (default 50)")
    jobs.add_argument("--json", action="store_true", help="print JSON lines")
    jobs.set_defaults(handler=_jobs)

    requeue = commands.add_parser("requeue", help="send a quarantined job back to the queue")
    requeue.add_argument("job_ids", nargs="+", type=int, metavar="ID")
    requeue.set_defaults(handler=_requeue)

    validate = commands.add_parser("validate", help="validate a draft as the report of a patient (the secretary's step)")
    validate.add_argument("job_id", type=int, metavar="ID")
    validate.add_argument("--patient", help="patient id in the index (default: the one proposed)")
    validate.add_argument("--by", dest="validator", default=os.environ.get("USER", "secretary"),
                          help="who validates (default: the login name)")
    validate.add_argument("--text", type=Path, help="the corrected report text (default: the draft text)")
    validate.add_argument("--worktype", choices=WORKTYPES)
    validate.add_argument("--confirm-identity", action="store_true",
                          help="the dictated identity disagrees with the patient, and you checked it is right")
    validate.add_argument("--flags-checked", action="store_true", help="the flagged doses and terms were checked")
    validate.add_argument("--file", dest="file_now", action="store_true", help="file the report at once")
    validate.set_defaults(handler=_validate)

    file = commands.add_parser("file", help="file validated reports into the patients' records (outbox/)")
    file.add_argument("job_ids", nargs="*", type=int, metavar="ID", help="jobs to file (default: every one waiting)")
    file.set_defaults(handler=_file)

    patients = commands.add_parser("patients", help="the patient index: import a CSV, find a patient")
    patient_commands = patients.add_subparsers(dest="patients_command", metavar="ACTION", required=True)
    patients_import = patient_commands.add_parser("import", help="add or update patients from a CSV file")
    patients_import.add_argument("csv", type=Path, metavar="FILE.csv")
    patients_import.set_defaults(handler=_patients_import)
    patients_find = patient_commands.add_parser("find", help="search the index by name or id")
    patients_find.add_argument("query")
    patients_find.set_defaults(handler=_patients_find)

    user = commands.add_parser("user", help="accounts of the review app")
    user_commands = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    user_add = user_commands.add_parser("add", help="create an account (the first admin, or anyone)")
    user_add.add_argument("username")
    user_add.add_argument("--role", choices=["doctor", "secretary", "admin"], default="secretary")
    user_add.add_argument("--author", help="for a doctor: the inbox folder name of his dictations")
    user_add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    user_add.set_defaults(handler=_user_add)
    user_list = user_commands.add_parser("list", help="list the accounts")
    user_list.set_defaults(handler=_user_list)

    audit = commands.add_parser("audit", help="the audit trail of the review app")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    audit_verify = audit_commands.add_parser("verify", help="check that the chained audit trail was not tampered with")
    audit_verify.set_defaults(handler=_audit_verify)
    audit_show = audit_commands.add_parser("show", help="the newest entries")
    audit_show.add_argument("--job", type=int)
    audit_show.set_defaults(handler=_audit_show)

    stats = commands.add_parser("stats", help="accuracy of the drafts against the validated reports")
    stats.add_argument("--by", choices=["author", "worktype", "language", "model", "vocabulary", "week"], default="author")
    stats.add_argument("--author", help="only this author's reports")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(handler=_stats)

    proposals = commands.add_parser("proposals", help="vocabulary proposals learnt from the validated reports")
    proposal_commands = proposals.add_subparsers(dest="proposals_command", metavar="ACTION")
    proposals.set_defaults(handler=_proposals_list)
    proposal_list = proposal_commands.add_parser("list", help="refresh and list the open proposals")
    proposal_list.set_defaults(handler=_proposals_list)
    for action in ("replay", "accept", "reject"):
        command = proposal_commands.add_parser(action, help={
            "replay": "show a proposal's effect on its author's past validated dictations",
            "accept": "add it to the site vocabulary (used from the next start)", "reject": "refuse it"}[action])
        command.add_argument("proposal_id", type=int, metavar="ID")
        command.set_defaults(handler=_proposals_decide, action=action)

    rerun = commands.add_parser("rerun", help="transcribe again the dictations not yet validated (after a vocabulary or model change)")
    rerun.add_argument("--since", required=True, help="date (YYYY-MM-DD): dictations received since then")
    rerun.add_argument("--author")
    rerun.add_argument("--include-started", action="store_true", help="also those a secretary has started reviewing")
    rerun.add_argument("--dry-run", action="store_true", help="only say which dictations would run again")
    rerun.set_defaults(handler=_rerun)

    models = commands.add_parser("models", help="show the models available and the default")
    models.set_defaults(handler=_models)

    config = commands.add_parser("config", help="print every setting and where its value came from")
    config.set_defaults(handler=_config)
    return parser


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="model: bundled-base, a folder under models/, a path, or a size name")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], help="where the model runs")
    parser.add_argument("--language", help="language code (fr, en...) or auto")


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "asr.model": getattr(args, "model", None),
        "asr.device": getattr(args, "device", None),
        "asr.language": getattr(args, "language", None),
    }


def _configure_logging(settings: Settings, args: argparse.Namespace) -> None:
    level = "DEBUG" if args.verbose else "WARNING" if args.quiet else settings.log_level.upper()
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("faster_whisper", "watchdog", "httpx", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def _open(settings: Settings) -> JobStore:
    return open_store(settings.store_url)


# --- commands -------------------------------------------------------------------------
def _serve(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from .service import serve

    store = _open(loaded.settings)
    try:
        serve(loaded.settings, store)
    finally:
        store.close()
    return EXIT_OK


def _worker(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    import threading

    from .service import stop_on_signals
    from .worker import Worker, load_recognizer, load_text_layer

    settings = loaded.settings
    stop = threading.Event()
    stop_on_signals(stop)
    recognizer = load_recognizer(settings)
    text_layer = load_text_layer(settings, warm=False)  # each language is built when first heard
    store = _open(settings)
    try:
        log.info("worker ready on store %s", store.display_url)
        Worker(settings, store, recognizer, text_layer).run(stop)
    finally:
        store.close()
    return EXIT_OK


def _run(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from dataclasses import replace

    from .inbox import Intake
    from .service import prepare_folders
    from .worker import Worker, load_recognizer, load_text_layer

    settings = loaded.settings
    if args.author:
        settings = replace(settings, intake=replace(settings.intake, default_author=args.author))
    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        print(f"transcribe: no such file: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    prepare_folders(settings)
    recognizer = load_recognizer(settings)  # a wrong model stops here, before any job is claimed
    text_layer = load_text_layer(settings, warm=False)  # only the languages heard get built
    store = _open(settings)
    worker = Worker(settings, store, recognizer, text_layer)
    intake = Intake(settings, store)
    status = EXIT_OK
    try:
        for number, path in enumerate(args.files):
            job = intake.take(path.resolve(), keep_original=True)
            if job is None:  # the file changed while it was read
                print(f"transcribe: {path}: the file is still being written; try again", file=sys.stderr)
                status = EXIT_FAILED
                continue
            if job.state is JobState.QUEUED:
                claimed = store.claim(job.id, worker.identity, settings.worker.lease_s)
                if claimed is not None:
                    worker.process(claimed)
                job = store.get(job.id)
            elif job.state is JobState.DRAFTED:
                print(f"(job {job.id}: already transcribed, shown from the store)", file=sys.stderr)
            if len(args.files) > 1 and not args.json:
                print(("\n" if number else "") + f"== {path} ==")
            if job.state is JobState.DRAFTED:
                _print_result(store, job.id, as_json=args.json, raw=args.raw)
            else:
                status = EXIT_FAILED
                print(f"transcribe: {path}: not transcribed: job {job.id} is {job.state.value}"
                      + (f": {job.error}" if job.error else ""), file=sys.stderr)
    finally:
        store.close()
    return status


def _batch(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    import threading

    from .batch import NightlyBatch, batch_lock
    from .service import prepare_folders, stop_on_signals
    from .worker import load_recognizer, load_text_layer

    settings = loaded.settings
    prepare_folders(settings)
    stop = threading.Event()

    def announce() -> None:
        if not args.helper:
            print("\ninterrupted: finishing the dictations in hand, then stopping", file=sys.stderr)

    stop_on_signals(stop, announce)
    if args.helper is None:
        from .inbox import Intake

        intake_store = _open(settings)
        try:
            Intake(settings, intake_store).take_settled()  # what lies in the inbox waits too
        finally:
            intake_store.close()
    processes = batch_processes(settings, args.processes)
    if args.helper is None and processes > 1:
        with batch_lock(settings.paths.data):
            summary = run_helpers(args, loaded, processes, stop, quiet=args.quiet or args.quiet_batch)
        return _batch_report(settings, summary)
    with batch_lock(settings.paths.data) if args.helper is None else contextlib.nullcontext():
        recognizer = load_recognizer(settings)
        text_layer = load_text_layer(settings)
        store = _open(settings)
        try:
            display = None if args.quiet or args.quiet_batch or args.helper else _BatchDisplay()
            batch = NightlyBatch(settings, store, recognizer, text_layer,
                                 window=args.window or settings.batch.window_files,
                                 batch_size=args.batch_size or settings.batch.batch_size,
                                 on_progress=display.update if display else None)
            try:
                summary = batch.run(stop)
            finally:
                if display:
                    display.close()
        finally:
            store.close()
    if args.helper is not None:
        args.helper.write_text(json.dumps(summary.to_json()))
        return EXIT_OK
    return _batch_report(settings, summary)


def _batch_report(settings: Settings, summary: Any) -> int:
    from .batch import write_summary

    report = write_summary(summary, settings.paths.data / "batch-reports")
    data = summary.to_json()
    print(f"batch: {summary.files_done} dictations transcribed, {summary.files_failed} failed; "
          f"{summary.audio_s / 60:.1f} min of audio in {summary.wall_s / 60:.1f} min "
          f"({data['audio_hours_per_hour']} audio-hours per hour){'; interrupted' if summary.interrupted else ''}")
    for failure in summary.failures:
        print(f"  job {failure['job']}: {failure['state']}: {failure['reason']}")
    print(f"summary: {report}")
    return EXIT_FAILED if summary.failures else EXIT_OK


def batch_processes(settings: Settings, asked: int | None) -> int:
    """How many engine processes the batch runs: measured best on a CPU is one per core, one thread each."""
    wanted = asked if asked is not None else settings.batch.processes
    if wanted > 0:
        return wanted
    from .asr import EngineOptions, choose_device

    device, _, _ = choose_device(EngineOptions(settings.asr.device, settings.asr.compute_type, settings.asr.cpu_threads))
    return 1 if device == "cuda" else max(1, min(8, len(os.sched_getaffinity(0))))


def run_helpers(args: argparse.Namespace, loaded: LoadedSettings, processes: int, stop: Any, *, quiet: bool) -> Any:
    """Start the batch's engine processes, show their joint progress, and add up their summaries."""
    import subprocess
    import tempfile
    import time as clock

    from .batch import BatchSummary, Progress

    settings = loaded.settings
    store = _open(settings)
    start_queued = store.count_by_state().get(JobState.QUEUED, 0)
    environment = dict(os.environ)
    if loaded.sources.get("asr.cpu_threads") == "default":
        environment["TRANSCRIBE_ASR_CPU_THREADS"] = "1"
    folder = Path(tempfile.mkdtemp(prefix="transcribe-batch-"))
    command = [sys.executable, "-m", "transcribe"] + (["--config", str(loaded.config_file)] if loaded.config_file else [])
    helpers = []
    for number in range(processes):
        extra = [f"--{k}={v}" for k, v in (("batch-size", args.batch_size), ("window", args.window), ("model", args.model),
                                            ("device", args.device), ("language", args.language)) if v]
        helpers.append((folder / f"{number}.json", subprocess.Popen(
            command + ["-q", "batch", "--quiet", "--helper", str(folder / f"{number}.json")] + extra, env=environment)))
    display = None if quiet else _BatchDisplay()
    began = clock.monotonic()
    try:
        while any(p.poll() is None for _, p in helpers):
            if stop.is_set():
                for _, p in helpers:
                    if p.poll() is None:
                        p.terminate()
            if display:
                left = store.count_by_state().get(JobState.QUEUED, 0)
                display.update(Progress(total_files=start_queued, files_done=max(0, start_queued - left), started=began))
            clock.sleep(1)
    finally:
        if display:
            display.close()
        store.close()
    total = BatchSummary(started_at=datetime.now().astimezone().isoformat(timespec="seconds"))
    for path, process in helpers:
        try:
            part = json.loads(path.read_text())
        except (OSError, ValueError):
            total.failures.append({"job": None, "state": "helper-failed", "reason": f"an engine process ended with {process.returncode}"})
            continue
        total.files_done += part["files_done"]
        total.files_failed += part["files_failed"]
        total.audio_s += part["audio_s"]
        total.failures += part["failures"]
        total.interrupted = total.interrupted or part["interrupted"]
    total.wall_s = round(clock.monotonic() - began, 3)
    return total


class _BatchDisplay:
    """The batch's progress bar: files, audio hours, speed, time left."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(TextColumn("[bold]batch"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("{task.fields[audio]}"), TextColumn("{task.fields[speed]}"),
                                  TimeRemainingColumn(), transient=False)
        self._task = self._progress.add_task("batch", total=None, audio="", speed="")
        self._progress.start()

    def update(self, progress: object) -> None:
        self._progress.update(self._task, total=progress.total_files, completed=progress.files_done,  # type: ignore[attr-defined]
                              audio=f"{progress.audio_done_s / 3600:.2f} h audio",  # type: ignore[attr-defined]
                              speed=f"{progress.speed:.1f} audio-min/min")  # type: ignore[attr-defined]

    def close(self) -> None:
        self._progress.stop()


def _dictate(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from .dictate import DictationDetails, input_devices, record, terminal_keys

    if args.list_devices:
        devices = input_devices()
        for index, name, rate in devices:
            print(f"{index:>3}  {name}  ({rate} Hz)")
        if not devices:
            print("no sound input found on this machine")
        return EXIT_OK
    author = args.author
    if not author and sys.stdin.isatty():
        author = input(f"author [{loaded.settings.intake.default_author}]: ").strip()
    details = DictationDetails(author or loaded.settings.intake.default_author, args.patient, args.worktype,
                               args.urgent, args.language)
    keys, restore = terminal_keys()
    try:
        path = record(details, loaded.settings.paths.inbox, device=args.device, audio_format=args.audio_format,
                      keys=keys, show=lambda text: (sys.stdout.write(text), sys.stdout.flush()))
    finally:
        restore()
    if path is None:
        return EXIT_OK
    print(f"dictation sent: {path}")
    return EXIT_OK


def _print_result(store: JobStore, job_id: int, *, as_json: bool, raw: bool) -> None:
    from .records import transcript_from_json

    outputs = store.results_of(job_id)
    if as_json:
        print(outputs["transcript"].read_text())
    elif raw:
        print(transcript_from_json(json.loads(outputs["transcript"].read_text())).text)
    else:
        print(outputs["text"].read_text().rstrip("\n"))


def _text(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from .records import transcript_from_json
    from .worker import load_text_layer

    try:
        content = args.file.read_text(encoding="utf-8") if args.file else sys.stdin.read()
    except (OSError, UnicodeDecodeError) as e:
        print(f"transcribe: {args.file}: cannot be read as UTF-8 text ({e})", file=sys.stderr)
        return EXIT_USAGE
    transcript = None
    if content.lstrip().startswith("{"):
        try:
            transcript = transcript_from_json(json.loads(content))
        except (ValueError, KeyError, TypeError) as e:
            print(f"transcribe: not a transcript JSON ({e}); give plain text or a transcript.json", file=sys.stderr)
            return EXIT_USAGE
    language = args.lang or (transcript.language if transcript else None)
    if language is None and loaded.settings.asr.language != "auto":
        language = loaded.settings.asr.language
    if language is None:
        print("transcribe: say which language the text is in: --lang fr or --lang en", file=sys.stderr)
        return EXIT_USAGE
    layer = load_text_layer(loaded.settings, warm=False)
    if transcript is not None:
        if args.lang:
            from dataclasses import replace

            transcript = replace(transcript, language=args.lang)
        result = layer.clean(transcript)
    else:
        result = layer.clean_text(content.strip(), language)
    if args.json:
        print(json.dumps({**result.to_json(), "vocabulary_version": layer.vocabulary.version},
                         ensure_ascii=False, indent=2))
    else:
        print(result.text)
    return EXIT_OK


def _jobs(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    store = _open(loaded.settings)
    try:
        state = JobState(args.state) if args.state else None
        listed = store.list_jobs(state=state, limit=args.limit)
        counts = store.count_by_state()
    finally:
        store.close()
    now = datetime.now(timezone.utc)
    if args.json:
        for job in listed:
            print(json.dumps({
                "id": job.id, "state": job.state.value, "author": job.author, "name": job.original_name,
                "duration_s": job.duration_s, "created_at": job.created_at.isoformat(),
                "attempts": job.attempts, "error": job.error,
            }, ensure_ascii=False))
        return EXIT_OK
    rows = [("ID", "STATE", "AUTHOR", "TYPE", "PATIENT", "DURATION", "AGE", "NAME")]
    for job in listed:
        rows.append((
            str(job.id), job.state.value + ("!" if job.priority == "urgent" else ""), job.author,
            job.worktype or "-", job.patient_id or "-",
            format_duration(job.duration_s) or "-", _age((now - job.created_at).total_seconds()), job.original_name,
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    for job in listed:
        if job.state is JobState.QUARANTINED and job.error:
            print(f"  job {job.id}: {job.error}")
        if job.filing_error:
            print(f"  job {job.id}: waiting to be filed: {job.filing_error}")
    summary = ", ".join(f"{count} {state.value}" for state, count in sorted(counts.items(), key=lambda kv: kv[0].value))
    print(f"\n{summary or 'no jobs yet'}")
    return EXIT_OK


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _requeue(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from .worker import requeue

    store = _open(loaded.settings)
    status = EXIT_OK
    try:
        for job_id in args.job_ids:
            try:
                job = requeue(loaded.settings, store, job_id)
                print(f"job {job.id}: queued again")
            except TranscribeError as e:
                print(f"transcribe: {e}", file=sys.stderr)
                status = EXIT_FAILED
    finally:
        store.close()
    return status


def _validate(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from .validation import validate_report

    text = None
    if args.text:
        try:
            text = args.text.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            print(f"transcribe: {args.text}: cannot be read ({e})", file=sys.stderr)
            return EXIT_USAGE
    store = _open(loaded.settings)
    try:
        try:
            job = validate_report(loaded.settings, store, args.job_id, validator=args.validator,
                                  patient_id=args.patient, text=text, worktype=args.worktype,
                                  confirm_identity=args.confirm_identity, flags_checked=args.flags_checked)
        except IdentityMismatch as e:
            print(f"transcribe: {e}. Check the audio; if the patient is right, validate again with "
                  "--confirm-identity", file=sys.stderr)
            return EXIT_FAILED
        print(f"job {job.id}: validated (version {job.report_version}) for patient {job.patient_id}")
        if args.file_now:
            return _file_jobs(loaded, store, [job.id])
    finally:
        store.close()
    return EXIT_OK


def _file(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    store = _open(loaded.settings)
    try:
        ids = args.job_ids or [job.id for job in store.waiting_to_be_filed()]
        if not ids:
            print("nothing waits to be filed")
            return EXIT_OK
        return _file_jobs(loaded, store, ids)
    finally:
        store.close()


def _file_jobs(loaded: LoadedSettings, store: JobStore, ids: list[int]) -> int:
    from .filing import file_report

    settings = loaded.settings
    vocabulary = _vocabulary(settings)
    status = EXIT_OK
    for job_id in ids:
        try:
            filed = file_report(settings, store, vocabulary, job_id)
        except TranscribeError as e:
            print(f"transcribe: {e}", file=sys.stderr)
            status = EXIT_FAILED
            continue
        where = filed.docx.relative_to(settings.paths.outbox) if filed.docx.is_relative_to(settings.paths.outbox) else filed.docx
        print(f"job {job_id}: {'already filed' if filed.already_filed else 'filed'} as {where}")
    return status


def _patients_import(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from .patients import decode_patient_csv, parse_patient_csv

    try:
        content = decode_patient_csv(args.csv.read_bytes())
    except OSError as e:
        print(f"transcribe: {args.csv}: cannot be read ({e.strerror})", file=sys.stderr)
        return EXIT_USAGE
    records, problems = parse_patient_csv(content)
    store = _open(loaded.settings)
    try:
        added, updated = store.import_patients(records)
    finally:
        store.close()
    print(f"{added} patients added, {updated} updated, {len(problems)} rows refused")
    for problem in problems[:50]:
        print(f"  line {problem.line}: {problem.reason}")
    return EXIT_OK if not problems else EXIT_FAILED


def _patients_find(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    store = _open(loaded.settings)
    try:
        found = store.search_patients(args.query)
    finally:
        store.close()
    for patient in found:
        born = patient.birth_date.isoformat() if patient.birth_date else "-"
        print(f"{patient.patient_id:<12} {patient.display_name:<40} {born}  {patient.sex}")
    if not found:
        print("no patient found")
    return EXIT_OK


def _user_add(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    import getpass

    from .audit import AuditTrail
    from .accounts import Accounts

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("transcribe: the two passwords differ", file=sys.stderr)
            return EXIT_USAGE
    store = _open(loaded.settings)
    try:
        user = Accounts(store).add_user(args.username, password, args.role, author=args.author)
        AuditTrail(store).record(None, "user-added", None, f"{user.username} ({user.role}) from the command line")
    finally:
        store.close()
    print(f"user {user.username} ({user.role}) created")
    return EXIT_OK


def _user_list(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from .accounts import Accounts

    store = _open(loaded.settings)
    try:
        for user in Accounts(store).list_users():
            print(f"{user.username:<20} {user.role:<10} {user.author or ''}")
    finally:
        store.close()
    return EXIT_OK


def _audit_verify(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from .audit import AuditTrail

    store = _open(loaded.settings)
    try:
        check = AuditTrail(store).verify()
    finally:
        store.close()
    if check.intact:
        print(f"audit trail intact: {check.entries} entries")
        return EXIT_OK
    print(f"transcribe: audit trail BROKEN at entry {check.first_broken}: {check.reason}", file=sys.stderr)
    return EXIT_FAILED


def _audit_show(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from .audit import AuditTrail

    store = _open(loaded.settings)
    try:
        for entry in AuditTrail(store).entries(job_id=args.job):
            at = datetime.fromtimestamp(entry["at"]).strftime("%Y-%m-%d %H:%M:%S")
            job = f"job {entry['job_id']}" if entry["job_id"] else ""
            print(f"{at}  {entry['username'] or '-':<14} {entry['action']:<18} {job} {entry['detail'] or ''}")
    finally:
        store.close()
    return EXIT_OK


def _vocabulary(settings: Settings) -> Any:
    from .vocabulary import load_vocabulary, vocabulary_folder

    return load_vocabulary(vocabulary_folder(settings.paths.vocab), site_folder=settings.paths.site_vocab,
                           cache_dir=settings.asr.model_cache.parent / "vocabulary")


def _stats(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from .accuracy import accuracy, validated_cases

    store = _open(loaded.settings)
    try:
        figures = accuracy(validated_cases(store, author=args.author), _vocabulary(loaded.settings), args.by)
    finally:
        store.close()
    if args.json:
        print(json.dumps(figures, indent=2))
        return EXIT_OK
    if not figures:
        print("no validated report yet")
        return EXIT_OK
    print(f"{args.by:<16} {'reports':>7} {'words':>7} {'WER':>7} {'terms':>7} {'reverted':>9} {'review/audio':>13}")
    for key, f in figures.items():
        print(f"{key:<16} {f['reports']:>7} {f['words']:>7} {_percent(f['word_error_rate']):>7} "
              f"{_percent(f['term_error_rate']):>7} {_percent(f['edits_reverted']):>9} "
              f"{(str(f['review_minutes_per_audio_minute']) + ' min/min') if f['review_minutes_per_audio_minute'] is not None else '-':>13}")
    return EXIT_OK


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _proposals_list(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from .accuracy import list_proposals, refresh_proposals

    store = _open(loaded.settings)
    try:
        refresh_proposals(store, _vocabulary(loaded.settings))
        open_ones = list_proposals(store)
    finally:
        store.close()
    for p in open_ones:
        forms = ", ".join(f"'{form}' x{n}" for form, n in p["wrong_forms"])
        what = f"add the term '{p['target']}'" if p["kind"] == "term" else f"write '{p['target']}' for {forms}"
        effect = f"  [replayed: {p['effect']['errors_fixed']} fixed, {p['effect']['errors_introduced']} introduced]" if p["effect"] else ""
        print(f"#{p['id']:<4} {p['language']} {p['author']:<14} {what}  (seen {p['count']} times){effect}")
    if not open_ones:
        print("no open proposal")
    return EXIT_OK


def _proposals_decide(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from .accuracy import decide, replay

    store = _open(loaded.settings)
    try:
        if args.action == "replay":
            effect = replay(store, _vocabulary(loaded.settings), args.proposal_id)
            print(f"proposal #{args.proposal_id} on {effect['dictations']} validated dictations of its author: "
                  f"{effect['errors_fixed']} word errors fixed, {effect['errors_introduced']} introduced")
        else:
            decided = decide(store, loaded.settings, args.proposal_id, accept=args.action == "accept",
                             by=os.environ.get("USER", "admin"))
            print(f"proposal #{args.proposal_id} {decided['status']}"
                  + (" (used from the next start of the service)" if decided["status"] == "accepted" else ""))
    finally:
        store.close()
    return EXIT_OK


def _rerun(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from .patients import parse_date
    from .rerun import choose_jobs, rerun

    day = parse_date(args.since)
    if day is None:
        print(f"transcribe: --since {args.since} is not a date (YYYY-MM-DD)", file=sys.stderr)
        return EXIT_USAGE
    since = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    store = _open(loaded.settings)
    try:
        choice = choose_jobs(store, since, author=args.author, include_started=args.include_started)
        for job, why in choice.left:
            print(f"job {job.id}: left as it is ({why}; --include-started to run it again)")
        if args.dry_run:
            print(f"{len(choice.again)} dictations would be transcribed again: {', '.join(str(j.id) for j in choice.again)}")
            return EXIT_OK
        queued = rerun(loaded.settings, store, choice.again, os.environ.get("USER"), f"rerun since {args.since}")
    finally:
        store.close()
    print(f"{len(queued)} dictations queued again (earlier drafts kept in drafts/<job>/previous-N/); "
          "'transcribe serve' or 'transcribe batch' transcribes them")
    return EXIT_OK


def _models(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from .models import list_models

    settings = loaded.settings
    print(f"default: {settings.asr.model}  (asr.model, from {loaded.sources['asr.model']})\n")
    listings = list_models(settings.paths.models)
    width = max(len(m.name) for m in listings)
    for listing in listings:
        marker = "*" if listing.name == settings.asr.model else " "
        print(f"{marker} {listing.name.ljust(width)}  {listing.kind:<7}  {listing.available}")
    print(f"\nlocal model folders go in {settings.paths.models}/<name>/ (CTranslate2 format)")
    return EXIT_OK


def _config(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    values = describe(loaded.settings)
    width = max(len(key) for key in values)
    print(f"# settings file: {loaded.config_file or 'none (defaults, environment and flags only)'}")
    for key, value in values.items():
        shown = str(value) if not isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        print(f"{key.ljust(width)} = {shown}  # {loaded.sources.get(key, 'default')}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
