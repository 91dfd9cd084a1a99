"""Getting dictations transcribed: ``serve``, ``worker``, ``run``, ``batch``, ``dictate``, ``jobs``, ``requeue``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from transcribe.commands import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    Commands,
    add_model_options,
    cli_audit,
    open_job_store,
    open_site_store,
)
from transcribe.documents.worktypes import WORKTYPES
from transcribe.errors import TranscribeError
from transcribe.messages import LANGUAGES
from transcribe.records import JobState, format_duration
from transcribe.settings import Settings
from transcribe.settings_loading import LoadedSettings
from transcribe.store import JobStore

if TYPE_CHECKING:
    from collections import Counter

    from transcribe.batch import BatchSummary
    from transcribe.commands.displays import ServiceDisplay

log = logging.getLogger("transcribe")


def register(commands: Commands) -> None:
    """Add the commands that transcribe: serve, worker, run, batch, dictate."""
    serve = commands.add_parser("serve", help="watch the inbox and transcribe what arrives")
    add_model_options(serve)
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser("worker", help="only transcribe queued jobs (no watcher, no web app): a worker host")
    add_model_options(worker)
    worker.set_defaults(handler=_worker)

    run = commands.add_parser("run", help="transcribe the given files now and print the text")
    run.add_argument("files", nargs="+", type=Path, metavar="FILE")
    run.add_argument("--author", help="author of the dictations (default: intake.default_author)")
    run.add_argument("--json", action="store_true", help="print the whole transcript as JSON")
    run.add_argument("--raw", action="store_true", help="print the engine's raw text, before the text layer")
    add_model_options(run)
    run.set_defaults(handler=_run)

    batch = commands.add_parser("batch", help="transcribe every waiting dictation now, as fast as possible, then exit")
    batch.add_argument("--quiet", dest="quiet_batch", action="store_true", help="no progress display (for cron)")
    batch.add_argument("--batch-size", type=int, help="speech clips per engine batch (default: batch.batch_size)")
    batch.add_argument("--window", type=int, help="dictations transcribed together (default: batch.window_files)")
    batch.add_argument("--processes", type=int, help="engine processes (default: batch.processes; 0 = best measured)")
    add_model_options(batch)
    batch.set_defaults(handler=_batch)

    dictate = commands.add_parser("dictate", help="record a dictation from the microphone into the inbox")
    dictate.add_argument("--list-devices", action="store_true", help="list the sound inputs and exit")
    dictate.add_argument("--device", dest="input_device", type=int, help="sound input number (see --list-devices)")
    dictate.add_argument("--author", help="who dictates (default: asked, or intake.default_author)")
    dictate.add_argument("--patient", help="patient id in the index")
    dictate.add_argument("--worktype", choices=WORKTYPES)
    dictate.add_argument("--urgent", action="store_true")
    dictate.add_argument("--language", dest="dictation_language", choices=LANGUAGES)
    dictate.add_argument("--format", dest="audio_format", choices=["flac", "wav"], default="flac")
    dictate.set_defaults(handler=_dictate)


def register_queue(commands: Commands) -> None:
    """Add the commands that look after the queue: jobs, requeue."""
    jobs = commands.add_parser("jobs", help="list jobs with their state, author, duration and age")
    jobs.add_argument("--state", choices=[s.value for s in JobState], help="only jobs in this state")
    jobs.add_argument("--limit", type=int, default=50, help="how many of the newest jobs (default 50)")
    jobs.add_argument("--json", action="store_true", help="print JSON lines")
    jobs.set_defaults(handler=_jobs)

    requeue = commands.add_parser("requeue", help="send a quarantined job back to the queue")
    requeue.add_argument("job_ids", nargs="+", type=int, metavar="ID")
    requeue.set_defaults(handler=_requeue)


def _serve(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    import time
    from collections import Counter

    from transcribe.commands.displays import ServiceDisplay, print_service_summary
    from transcribe.service import serve

    settings = loaded.settings
    store = _open_store_waiting(settings, "serve")
    if store is None:
        return EXIT_OK
    started = time.monotonic()
    tally: Counter[str] = Counter()
    stop = threading.Event()
    display = ServiceDisplay()  # on a terminal: one status line under the log
    status = threading.Thread(target=_show_service, args=(settings, store, tally, display, stop), daemon=True)
    if display.active:
        status.start()
    with store:
        try:
            serve(settings, store, stop, tally=tally)
        finally:
            stop.set()
            if status.is_alive():
                status.join(timeout=5)
            display.close()
            print_service_summary(time.monotonic() - started, tally, _waiting(store))
    return EXIT_OK


def _show_service(
    settings: Settings, store: JobStore, tally: Counter[str], display: ServiceDisplay, stop: threading.Event
) -> None:
    """Every second, the service's state on its status line: the queue, what its worker did, where to review."""
    from transcribe.errors import StoreError

    review = f"  ·  http://{settings.review.host}:{settings.review.port}/" if settings.review.enabled else ""
    while not stop.wait(1.0):
        try:
            counts = store.jobs.count_by_state()
        except StoreError:
            display.show("[bold]serve[/] [red]●[/] the job store does not answer: waiting for it")
            continue
        queue = (
            f"{counts.get(JobState.QUEUED, 0)} waiting · {counts.get(JobState.TRANSCRIBING, 0)} transcribing · "
            f"{counts.get(JobState.DRAFTED, 0)} to review"
        )
        done = f"since start: {tally['drafted']} drafted, {tally['quarantined']} quarantined"
        display.show(f"[bold]serve[/] [green]●[/] {queue}  ·  {done}{review}")


def _waiting(store: JobStore) -> int | None:
    from transcribe.errors import StoreError

    try:
        return store.jobs.count_by_state().get(JobState.QUEUED, 0)
    except StoreError:
        return None


def _worker(args: argparse.Namespace, loaded: LoadedSettings) -> int:

    from transcribe.service import stop_on_signals
    from transcribe.worker import Worker, load_recognizer, load_text_layer

    settings = loaded.settings
    stop = threading.Event()
    stop_on_signals(stop)
    recognizer = load_recognizer(settings)
    text_layer = load_text_layer(settings, warm=False)  # each language is built when first heard
    store = _open_store_waiting(settings, "the worker", stop)
    if store is None:
        return EXIT_OK
    with store:
        log.info("worker ready on store %s", store.display_url)
        Worker(settings, store, recognizer, text_layer).run(stop)
    return EXIT_OK


def _open_store_waiting(settings: Settings, who: str, stop: threading.Event | None = None) -> JobStore | None:
    """Open the job store, waiting for it while it does not answer (a service started before its database);
    past ``store.outage_limit_s`` ``StoreDown`` is raised. None if ``stop`` was set meanwhile."""
    from transcribe.errors import StoreUnavailable
    from transcribe.store.outage import Outage

    outage = Outage(who, settings.store)
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            store = open_job_store(settings)
        except StoreUnavailable as e:
            stop.wait(outage.failed(e))
            continue
        outage.answered()
        return store
    return None


def _run(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from dataclasses import replace

    from transcribe.intake.inbox import Intake
    from transcribe.service import prepare_folders
    from transcribe.worker import Worker, load_recognizer, load_text_layer

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
    with open_job_store(settings) as store:
        worker = Worker(settings, store, recognizer, text_layer)
        intake = Intake(settings, store)
        status = EXIT_OK
        for number, path in enumerate(args.files):
            job = intake.take(path.resolve(), keep_original=True)
            if job is None:  # the file changed while it was read
                print(f"transcribe: {path}: the file is still being written; try again", file=sys.stderr)
                status = EXIT_FAILED
                continue
            if job.state is JobState.QUEUED:
                claimed = store.claims.claim(job.id, worker.identity, settings.worker.lease_s)
                if claimed is not None:
                    worker.process(claimed)
                job = store.jobs.get(job.id)
            elif job.state is JobState.DRAFTED:
                print(f"(job {job.id}: already transcribed, shown from the store)", file=sys.stderr)
            if len(args.files) > 1 and not args.json:
                print(("\n" if number else "") + f"== {path} ==")
            if job.state is JobState.DRAFTED:
                _print_result(store, job.id, as_json=args.json, raw=args.raw)
            else:
                status = EXIT_FAILED
                print(
                    f"transcribe: {path}: not transcribed: job {job.id} is {job.state.value}"
                    + (f": {job.error}" if job.error else ""),
                    file=sys.stderr,
                )
    return status


def _print_result(store: JobStore, job_id: int, *, as_json: bool, raw: bool) -> None:
    from transcribe.records import transcript_from_json

    outputs = store.jobs.results_of(job_id)
    if as_json:
        print(outputs["transcript"].read_text())
    elif raw:
        print(transcript_from_json(json.loads(outputs["transcript"].read_text())).text)
    else:
        print(outputs["text"].read_text().rstrip("\n"))


def _batch(args: argparse.Namespace, loaded: LoadedSettings) -> int:

    from transcribe.batch import BatchOptions, batch_lock, batch_processes, run_helpers, run_here
    from transcribe.commands.displays import BatchDisplay
    from transcribe.intake.inbox import Intake
    from transcribe.service import prepare_folders, stop_on_signals

    settings = loaded.settings
    prepare_folders(settings)
    stop = threading.Event()

    def announce() -> None:
        print("\ninterrupted: finishing the dictations in hand, then stopping", file=sys.stderr)

    stop_on_signals(stop, announce)
    with open_job_store(settings) as intake_store:
        Intake(settings, intake_store).take_settled()  # what lies in the inbox waits too
    options = BatchOptions(
        batch_size=args.batch_size,
        window=args.window,
        model=args.model,
        device=args.device,
        language=args.language,
        specialty=args.specialty,
    )
    quiet = args.quiet or args.quiet_batch
    processes = batch_processes(settings, args.processes)
    with batch_lock(settings.paths.data):
        display = None if quiet else BatchDisplay()
        try:
            if processes > 1:  # one engine process per core (``batch.run_helpers``), their progress added up
                summary = run_helpers(loaded, options, processes, stop, on_progress=display.update if display else None)
            else:
                summary = run_here(settings, options, stop, on_progress=display.update if display else None)
        finally:
            if display:
                display.close()
    return _batch_report(settings, summary)


def _batch_report(settings: Settings, summary: BatchSummary) -> int:
    from transcribe.batch import write_summary
    from transcribe.commands.displays import print_batch_summary

    print_batch_summary(summary, str(write_summary(summary, settings.paths.data / "batch-reports")))
    return EXIT_FAILED if summary.failures else EXIT_OK


def _dictate(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.intake.dictation import DictationDetails, input_devices, record, terminal_keys

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
    details = DictationDetails(
        author or loaded.settings.intake.default_author,
        args.patient,
        args.worktype,
        args.urgent,
        args.dictation_language,
    )
    from transcribe.commands.displays import DictationDisplay, print_dictation_sent
    from transcribe.speech.audio import decode_dictation

    keys, restore = terminal_keys()
    display = DictationDisplay(details)
    try:
        path = record(
            details,
            loaded.settings.paths.inbox,
            device=args.input_device,
            audio_format=args.audio_format,
            keys=keys,
            show=display.show,
        )
    finally:
        display.close()
        restore()
    if path is None:
        print("discarded: nothing was sent")
        return EXIT_OK
    print_dictation_sent(path, decode_dictation(path).duration_s, details)
    return EXIT_OK


def _jobs(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    with open_site_store(loaded) as store:
        state = JobState(args.state) if args.state else None
        listed = store.jobs.list_jobs(state=state, limit=args.limit)
        counts = store.jobs.count_by_state()
    now = datetime.now(UTC)
    if args.json:
        for job in listed:
            print(
                json.dumps(
                    {
                        "id": job.id,
                        "state": job.state.value,
                        "author": job.author,
                        "name": job.original_name,
                        "duration_s": job.duration_s,
                        "created_at": job.created_at.isoformat(),
                        "attempts": job.attempts,
                        "error": job.error,
                        "filing_error": job.filing_error,
                        "patient_id": job.patient_id,
                        "worktype": job.worktype,
                    },
                    ensure_ascii=False,
                )
            )
        return EXIT_OK
    rows = [("ID", "STATE", "AUTHOR", "TYPE", "PATIENT", "DURATION", "AGE", "NAME")]
    for job in listed:
        rows.append(
            (
                str(job.id),
                job.state.value + ("!" if job.priority == "urgent" else ""),
                job.author,
                job.worktype or "-",
                job.patient_id or "-",
                format_duration(job.duration_s) or "-",
                _age((now - job.created_at).total_seconds()),
                job.original_name,
            )
        )
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
    from transcribe.intake.requeue import requeue

    status = EXIT_OK
    with open_site_store(loaded) as store:
        audit = cli_audit(loaded.settings, store)
        for job_id in args.job_ids:
            try:
                job = requeue(loaded.settings, store, job_id, audit=audit)
                print(f"job {job.id}: queued again")
            except TranscribeError as e:
                print(f"transcribe: {e}", file=sys.stderr)
                status = EXIT_FAILED
    return status
