"""Shared fixtures: a site in a temporary folder, the real bundled model, real audio clips."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from transcribe.settings import PathSettings, Settings
from transcribe.settings_loading import load_settings
from transcribe.speech.engine import SpeechRecognizer
from transcribe.store import JobStore, open_store
from transcribe.text import TextLayer
from transcribe.worker import load_recognizer, load_text_layer

ROOT = Path(__file__).resolve().parent.parent
DICTATIONS = ROOT / "tests" / "dictations"
SHARED_AUDIO = ROOT.parent / "shared" / "audio"


#: for tests of robustness (hostile files, faults, outages, concurrency), not of hearing: the engine's own
#: pass only (no first pass to guess a specialty, no audio scoring of doubtful words), which keeps the
#: suite under 15 minutes on two cores. Hearing is tested in test_acoustic, test_biasing and test_worker.
ENGINE_PASS_ONLY: dict[str, object] = {"asr.first_pass_s": 0.0, "asr.audio_evidence": False}


def make_settings(site: Path, values: dict[str, object] | None = None) -> Settings:
    """Settings for a site folder, from a transcribe.toml written with these dotted values."""
    write_config(site, {"intake.settle_s": 0.3, "worker.poll_s": 0.1, "review.enabled": False, **(values or {})})
    return load_settings(cwd=site, environ={}).settings


def write_config(site: Path, values: dict[str, object]) -> Path:
    """Write a transcribe.toml holding these dotted keys (``section.key`` or ``authors.name.key``)."""
    sections: dict[str, list[str]] = {}
    for key, value in values.items():
        section, _, name = key.rpartition(".")
        sections.setdefault(section, []).append(f"{name} = {_toml_value(value)}")
    lines = sections.pop("", [])
    for section, entries in sections.items():
        lines += [f"[{section}]", *entries]
    path = site / "transcribe.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A new site folder: its transcribe.toml, empty (every setting at its default), as `transcribe init` starts one."""
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "transcribe.toml").write_text("")
    return folder


@pytest.fixture
def settings(site: Path) -> Settings:
    """Settings for the temporary site, with short settle and poll times."""
    return make_settings(site)


@pytest.fixture
def store(settings: Settings) -> Iterator[JobStore]:
    """A real SQLite job store in the temporary site."""
    job_store = open_store(settings.store_url)
    yield job_store
    job_store.close()


POSTGRES_URL = os.environ.get("TRANSCRIBE_TEST_POSTGRES_URL",
                              "postgresql+psycopg://transcribe_test:transcribe_test@127.0.0.1:5432/transcribe_test")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL store in a schema of its own (created by tests/install-system-packages.sh).

    Where there is no server the tests skip, saying why; in CI (``CI=true``) they fail instead, so that
    a server that did not start cannot silently take the whole PostgreSQL suite with it.
    """
    import uuid

    import sqlalchemy as sa

    try:
        admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            schema = f"t_{uuid.uuid4().hex[:12]}"
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except Exception as e:
        reason = (f"no PostgreSQL at {POSTGRES_URL.rsplit('@', 1)[-1]} ({type(e).__name__}); "
                  "tests/install-system-packages.sh sets it up")
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(f"{reason} (CI is set: the PostgreSQL tests must run)", pytrace=False)
        pytest.skip(reason)
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL on each engine the pipeline supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine_store(store_url: str) -> Iterator[JobStore]:
    """A migrated job store on each engine."""
    job_store = open_store(store_url)
    yield job_store
    job_store.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that loads the real model is an ``engine`` test (``-m engine``; tests/each-cpu-isa.sh).

    The modules whose tests run the model in a child process (``transcribe serve``, ``run``, ``batch``,
    ``worker``) say so themselves with ``pytestmark``.
    """
    for item in items:
        if "recognizer" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.engine)


@pytest.fixture(scope="session")
def recognizer() -> SpeechRecognizer:
    """The real bundled model, loaded once for the whole test session."""
    return load_recognizer(Settings())


@pytest.fixture(scope="session")
def text_layer() -> TextLayer:
    """The text layer on the project's vocabulary, built once for the whole test session."""
    paths = PathSettings(vocab=ROOT / "vocab", site_vocab=ROOT / "vocab" / "site")
    return load_text_layer(Settings(paths=paths))


@pytest.fixture(scope="session")
def shared_audio() -> Path:
    """The real speech clips of ../shared/audio; tests skip where they are absent."""
    if not SHARED_AUDIO.is_dir():
        pytest.skip(f"real speech clips not found at {SHARED_AUDIO} (see ../shared/audio/README.md)")
    return SHARED_AUDIO


def dictation(name: str) -> Path:
    """A committed synthetic dictation clip."""
    return DICTATIONS / "audio" / f"{name}.opus"


def wait_for(condition: Callable[[], object], timeout_s: float = 60.0, step_s: float = 0.1) -> object:
    """Poll ``condition`` until it returns something true; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(step_s)
    raise AssertionError(f"condition not met within {timeout_s} s")


class Service:
    """``transcribe serve`` as a real child process on a site folder."""

    def __init__(self, site: Path) -> None:
        self.site = site
        self.log = site / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRANSCRIBE_")}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "transcribe", "serve"], cwd=self.site, env=env,
                stdout=log, stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> int | None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                return self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode if self.process else None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@pytest.fixture
def service(site: Path) -> Iterator[Callable[[], Service]]:
    """Start ``transcribe serve`` in the site folder; every started service is stopped afterwards."""
    started: list[Service] = []

    def start() -> Service:
        s = Service(site)
        s.start()
        started.append(s)
        return s

    yield start
    for s in started:
        s.kill()


#: threads a library starts once and keeps on purpose: tqdm's refresh monitor (faster-whisper's progress
#: bars start it), and the executor workers of an event loop that outlives the test (a module's review
#: server): the loop's own thread, started by a test, is still counted
LIBRARY_THREADS = ("tqdm_monitor", "asyncio_", "AnyIO worker thread")


def _child_processes() -> set[int]:
    """The live (not zombie) processes whose parent is this one, from /proc; empty where there is no /proc."""
    children: set[int] = set()
    me = os.getpid()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        if fields[0] != "Z" and int(fields[1]) == me:
            children.add(int(stat.parent.name))
    return children


@pytest.fixture(autouse=True)
def nothing_left_running(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail any test that leaves threads or child processes running (watchdog observers, heartbeats,
    a `serve` or a helper process not stopped): every test, so that no new one forgets to ask.

    What a module- or session-wide fixture starts (a browser, a PostgreSQL) is there before the test and
    is not counted; what the test's own fixtures start is stopped by their teardown before this check.
    """
    threads_before = set(threading.enumerate())
    processes_before = _child_processes()
    yield
    deadline = time.monotonic() + 5
    while True:
        threads = [
            t.name
            for t in threading.enumerate()
            if t not in threads_before and t.is_alive() and not t.name.startswith(LIBRARY_THREADS)
        ]
        processes = sorted(_child_processes() - processes_before)
        if not threads and not processes:
            return
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    commands = []
    for pid in processes:
        with contextlib.suppress(OSError):  # it may end while we look
            commands.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120])
    raise AssertionError(f"{request.node.name} left running: threads {threads}, processes {commands}")


def copy_slowly(source: Path, target: Path, chunks: int = 8, pause_s: float = 0.2) -> None:
    """Write a file in chunks with pauses, as a slow network copy or a recorder does."""
    data = source.read_bytes()
    size = -(-len(data) // chunks)
    with target.open("wb") as stream:
        for start in range(0, len(data), size):
            stream.write(data[start:start + size])
            stream.flush()
            time.sleep(pause_s)


def copy_into(source: Path, folder: Path, name: str | None = None) -> Path:
    """Copy a file into a folder the way a user does (cp)."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(source, folder / (name or source.name)))


@pytest.fixture
def app_site(site: Path, recognizer, text_layer):
    from .web_site import Site

    running = Site(site, recognizer, text_layer)
    yield running
    running.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    from .web_site import CHROMIUM

    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required",
                  "--mute-audio"],
        )
        yield launched
        launched.close()
