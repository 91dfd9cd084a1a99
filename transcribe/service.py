"""``transcribe serve``: the intake thread and the worker, until asked to stop.

``serve`` runs on the front host: the one whose outbox is the patients' records. At start it marks
that outbox as this store's (``filing.mark_outbox``), which is what lets its worker, and the worker
hosts that mount the same outbox, file validated reports there.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections import Counter
from collections.abc import Callable
from types import FrameType

from transcribe.errors import StoreDown, TranscribeError
from transcribe.intake.atomic import ensure_folder
from transcribe.intake.inbox import Intake
from transcribe.patient_record.filing import mark_outbox
from transcribe.settings import Settings
from transcribe.store import JobStore
from transcribe.vocabulary.records import Vocabulary
from transcribe.worker import Worker, load_recognizer, load_text_layer

log = logging.getLogger(__name__)


def prepare_folders(settings: Settings) -> None:
    """Create the site's folders, private to the service's user."""
    for folder in (
        settings.paths.inbox,
        settings.paths.outbox,
        settings.paths.quarantine,
        settings.paths.archive,
        settings.paths.drafts,
    ):
        ensure_folder(folder)


def serve(
    settings: Settings, store: JobStore, stop: threading.Event | None = None, *, tally: Counter[str] | None = None
) -> None:
    """Watch the inbox and transcribe what arrives until SIGTERM, Ctrl-C or ``stop``.

    ``tally`` counts the jobs its worker finished, by the state it left them in (for the closing summary).
    """
    stop = stop or threading.Event()
    prepare_folders(settings)
    problem = mark_outbox(settings, store)  # the worker below marks it again until it can
    if problem:
        log.error("validated reports are not filed: %s", problem)
    recognizer = load_recognizer(settings)  # fail now, not on the first dictation
    text_layer = load_text_layer(settings)
    stop_on_signals(stop, lambda: log.info("signal received: finishing the current job, then stopping"))
    intake = Intake(settings, store)
    failures: list[Exception] = []
    intake_thread = threading.Thread(target=_guarded, args=(intake.run, stop, failures), name="intake", daemon=True)
    intake_thread.start()
    web = start_review_app(settings, store, text_layer.vocabulary, stop) if settings.review.enabled else None
    log.info("watching %s; drafts go to %s", settings.paths.inbox, settings.paths.drafts)
    try:
        worker = Worker(settings, store, recognizer, text_layer, front_host=True)
        if tally is not None:
            worker.tally = tally
        worker.run(stop)
    finally:
        stop.set()
        intake_thread.join(timeout=10)
        if web is not None:
            web.join(timeout=10)
        log.info("stopped")
    if failures:  # not a stop that was asked for: the exit status says so, for the supervisor that restarts it
        if isinstance(failures[0], TranscribeError):
            raise failures[0]
        raise TranscribeError(
            f"the inbox watcher stopped on an unexpected error ({type(failures[0]).__name__}); see the log"
        ) from failures[0]


def start_review_app(
    settings: Settings, store: JobStore, vocabulary: Vocabulary, stop: threading.Event
) -> threading.Thread:
    """Serve the review app in a thread until ``stop`` is set."""
    import uvicorn

    from transcribe.review.app import create_app

    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, store, vocabulary),
            host=settings.review.host,
            port=settings.review.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
    )
    # uvicorn listens to signals only from the main thread: in this thread the service's own handlers stop it

    def watch() -> None:
        stop.wait()
        server.should_exit = True

    threading.Thread(target=watch, name="review-app-stop", daemon=True).start()

    def run() -> None:
        try:
            server.run()
        except BaseException as e:  # uvicorn exits the thread when it cannot bind its port
            log.error(
                "the review app could not run on %s:%d (%s); the pipeline goes on without it",
                settings.review.host,
                settings.review.port,
                type(e).__name__,
            )

    thread = threading.Thread(target=run, name="review-app", daemon=True)
    thread.start()
    log.info("review app on http://%s:%d/", settings.review.host, settings.review.port)
    return thread


def _guarded(run: object, stop: threading.Event, failures: list[Exception]) -> None:
    try:
        run(stop)  # type: ignore[operator]
    except StoreDown as e:  # said loudly already (store/outage.py): the service stops with a failure
        failures.append(e)
        stop.set()
    except Exception as e:
        log.exception("the inbox watcher stopped on an error; stopping the service so that it is restarted")
        failures.append(e)
        stop.set()


def stop_on_signals(stop: threading.Event, announce: Callable[[], None] | None = None) -> None:
    """SIGTERM and SIGINT set ``stop`` (after ``announce``), so that the work in hand is finished first.

    The handler only starts a thread that does it: a handler runs in the main thread between two
    bytecodes, possibly while that thread holds the event's own lock inside ``stop.wait()``;
    setting the event there would wait for that lock forever.
    """
    if threading.current_thread() is not threading.main_thread():
        return

    def set_stop() -> None:
        if announce is not None:
            announce()
        stop.set()

    def handle(_signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=set_stop, name="stop-on-signal", daemon=True).start()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
