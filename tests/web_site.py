"""A running review app on a real site, for the browser and security tests."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import threading
from pathlib import Path

from transcribe.intake.inbox import Intake
from transcribe.patient_record.patient_import import parse_patient_csv
from transcribe.records import JobState
from transcribe.security.accounts import Accounts
from transcribe.store import open_store
from transcribe.worker import Worker

from .conftest import ROOT, copy_into, dictation, make_settings, wait_for

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "correct horse battery"
PATIENTS_CSV = "id,family_name,given_names,birth_date\n100001,Dupont,Jean,1950-03-12\n100003,Durand,Marie-Claire,1962-04-03\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Site:
    """A site with a running review app and real drafted dictations."""

    def __init__(self, folder: Path, recognizer, text_layer, values: dict | None = None) -> None:
        """``values``: more settings (dotted keys), over the English site's."""
        import uvicorn

        from transcribe.review.app import create_app

        self.port = _free_port()
        self.settings = make_settings(folder, {"review.port": self.port, "review.language": "en", "review.enabled": True,
                                               **(values or {})})
        self.store = open_store(self.settings.store_url)
        self.store.patients.import_patients(parse_patient_csv(PATIENTS_CSV)[0])
        accounts = Accounts(self.store)
        accounts.add_user("anne", PASSWORD, "secretary")
        accounts.add_user("bea", PASSWORD, "secretary")
        accounts.add_user("martin", PASSWORD, "doctor", author="dr-martin")
        accounts.add_user("root", PASSWORD, "admin")
        self.recognizer, self.text_layer = recognizer, text_layer
        self.server = uvicorn.Server(uvicorn.Config(create_app(self.settings, self.store, text_layer.vocabulary),
                                                    host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_for(lambda: self.server.started, timeout_s=20)
        self.url = f"http://127.0.0.1:{self.port}"

    def dictate(self, clip: str, sidecar: dict | None = None, name: str | None = None, *, live: bool = False) -> int:
        """A committed dictation dropped into dr-martin's inbox and drafted: from the words the engine once
        wrote for it (tests/recorded.py: the same on every processor), or decoded now (``live``)."""
        if not live:
            from .recorded import draft_recorded

            job = draft_recorded(self.settings, self.store, self.text_layer, clip, sidecar=sidecar,
                                 file_name=name or f"{clip}.opus")
            assert job.state is JobState.DRAFTED, job
            return job.id
        path = copy_into(dictation(clip), self.settings.paths.inbox / "dr-martin", name or f"{clip}.opus")
        if sidecar:
            path.with_suffix(".json").write_text(json.dumps(sidecar))
        job = Intake(self.settings, self.store).take(path)
        assert job is not None
        Worker(self.settings, self.store, self.recognizer, self.text_layer).run_next()
        assert self.store.jobs.get(job.id).state is JobState.DRAFTED
        return job.id

    def dictate_recorded(self, clip: str, author: str = "dr-martin") -> int:
        """A committed dictation drafted from the engine's recorded words for it, scored on its audio as the
        worker does (tests/recorded.py): the same doubtful words on every processor."""
        from .recorded import draft_recorded

        job = draft_recorded(self.settings, self.store, self.text_layer, clip, author=author, recognizer=self.recognizer)
        assert job.state is JobState.DRAFTED
        return job.id

    def dictate_text(self, text: str, language: str = "fr", sidecar: dict | None = None, clip: str = "fr-mg-001",
                     author: str = "dr-martin", name: str | None = None) -> int:
        """A real dictation whose engine output is replaced by ``text`` (one word every 0.4 s).

        Only the engine's words are given; intake, the text layer, the report, the store and the
        review app are the real ones. Used where a case needs exact words the synthetic clips lack.
        One clip makes one dictation (the same audio twice is taken once): give another ``clip`` for more.
        ``name``: the file's name in the inbox (a name that carries an identity, ``DUPONT_Marie_...opus``).
        """
        from transcribe.records import Segment, Transcript, Word

        path = copy_into(dictation(clip), self.settings.paths.inbox / author, name or f"text-{clip}.opus")
        if sidecar:
            path.with_suffix(".json").write_text(json.dumps(sidecar))
        job = Intake(self.settings, self.store).take(path)
        assert job is not None
        worker = Worker(self.settings, self.store, self.recognizer, self.text_layer)
        claimed = self.store.claims.claim_next(worker.identity, 60)
        assert claimed is not None and claimed.id == job.id
        words = tuple(Word((" " if i else "") + w, 0.4 * i, 0.4 * i + 0.35, 0.9) for i, w in enumerate(text.split()))
        transcript = Transcript((Segment(text, 0.0, 0.4 * len(words), words),), language, 0.99, 0.4 * len(words),
                                "bundled-base", {"language": language})
        worker.finish(claimed, transcript)
        assert self.store.jobs.get(job.id).state is JobState.DRAFTED
        return job.id

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.store.close()


def _get(site: Site, path: str) -> tuple[int, str]:
    """A request with no cookie, redirects not followed: (status, Location)."""
    connection = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    connection.close()
    return response.status, response.getheader("location") or ""


def _login(browser, site: Site, username: str):
    context = browser.new_context(bypass_csp=True)  # Playwright evaluates its wait conditions as script
    page = context.new_page()
    page.goto(f"{site.url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_load_state("networkidle")
    return page


def _open_review(page, site: Site, job_id: int) -> None:
    page.goto(f"{site.url}/review/{job_id}")
    page.wait_for_selector("body[data-ready='1']", timeout=20000)


REPORT_TEXT = "Array.from(document.querySelectorAll('#report .block-text')).map(b => ReviewText.textOf(b)).join('\\n')"


def _report_text(page) -> str:
    """The report as the review screen holds it: its blocks' plain text, one after the other."""
    return page.evaluate(REPORT_TEXT)


def _type_at_end(page, text: str, block: int = 0) -> None:
    """Put the caret at the end of a block of the report (as a click there does), and type."""
    page.locator(f"#block-{block}").focus()
    page.evaluate(f"(b => ReviewText.select(b, ReviewText.textOf(b).length, ReviewText.textOf(b).length))"
                  f"(document.getElementById('block-{block}'))")
    page.keyboard.type(text)


def _validate(page) -> None:
    """Validate and file: the button, then the confirmation (the document as it will be filed)."""
    page.click("#validate")
    page.wait_for_selector("#document-dialog[open] #document-confirm:not([hidden])", timeout=20000)
    page.click("#document-confirm")
