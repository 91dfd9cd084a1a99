"""The codes panel of the review screen (issue 25), in a real browser, with the keyboard only.

Debian's Chromium driven by Playwright against a real server on a real site (SQLite store, real intake,
the real text layer, edsnlp's pipeline); the engine's words are given (``Site.dictate_text``) and no
model runs. The CCAM is imported from the team's sample of the official file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from transcribe.coding.official_files import read_code_set
from transcribe.records import JobState

from . import web_site
from .conftest import make_settings, wait_for
from .web_site import CHROMIUM, Site, _login, _open_review

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")

FILES = Path(__file__).parent / "coding_files"
TEXT = (
    "Patient suivi pour hypertension artérielle et diabète de type 2. Pas de fibrillation auriculaire. "
    "Mère asthme. ECG ce jour : rythme sinusal."
)


@pytest.fixture
def coding_site(site: Path, text_layer, monkeypatch: pytest.MonkeyPatch):
    """A running French site with the CCAM sample imported; no speech engine."""
    monkeypatch.setattr(web_site, "make_settings",
                        lambda folder, values: make_settings(folder, {**values, "review.language": "fr"}))

    def no_engine():
        raise AssertionError("no engine runs in these tests")

    running = Site(site, no_engine, text_layer)
    found = read_code_set("ccam-actes-2025.csv", (FILES / "ccam-actes-2025.csv").read_bytes())
    running.store.codes.import_code_set(found.system, found.version, source=found.source, file_kind=found.file_kind,
                                  labels=found.labels, by="test")
    yield running
    running.close()


def shown_codes(page) -> dict[str, str]:
    """The codes the panel shows, each with its state (its class: accepted, rejected, or '')."""
    return {item.get_attribute("data-code"): item.get_attribute("class") or ""
            for item in page.locator("#code-list li[data-code]").all()}


def press_on_focused(page, key: str = "Enter") -> None:
    page.keyboard.press(key)


def test_the_codes_panel_is_worked_with_the_keyboard_and_its_codes_are_filed(coding_site: Site, browser) -> None:
    site = coding_site
    job_id = site.dictate_text(TEXT, sidecar={"patient": {"id": "100001"}})
    page = _login(browser, site, "anne")
    _open_review(page, site, job_id)
    page.wait_for_selector("#code-list li[data-code='I10']", timeout=30000)  # edsnlp's pipeline is built once
    codes = shown_codes(page)
    assert {"I10", "E11.98", "DEQP003"} <= set(codes)
    assert "I48.9" not in codes and "J45.9" not in codes  # negated, family: not suggested
    assert "DEQP003" in codes and "Électrocardiographie" in page.locator("#code-list li[data-code='DEQP003']").inner_text()
    assert "« ECG »" in page.locator("#code-list li[data-code='DEQP003']").inner_text()  # the words that support it
    page.locator("#codes-aside summary").click()
    assert "I48.9" in page.locator("#codes-aside").inner_text() and "nié" in page.locator("#codes-aside").inner_text()

    # Alt+K: to the first code waiting; Enter accepts it; Tab, Tab: the next one's reject
    page.locator("#block-0").focus()
    page.keyboard.press("Alt+k")
    first = page.evaluate("document.activeElement.closest('li').dataset.code")
    assert page.evaluate("document.activeElement.className") == "code-accept"
    press_on_focused(page)
    page.wait_for_function("c => document.querySelector(`#code-list li[data-code='${c}']`).className === 'accepted'",
                           arg=first)
    page.keyboard.press("Alt+k")  # the next code waiting
    second = page.evaluate("document.activeElement.closest('li').dataset.code")
    assert second != first
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "code-reject"
    press_on_focused(page)
    page.wait_for_function("c => document.querySelector(`#code-list li[data-code='${c}']`).className === 'rejected'",
                           arg=second)

    # search a code by words, ↓ to the result, Enter adds it
    page.keyboard.press("Alt+k")
    third = page.evaluate("document.activeElement.closest('li').dataset.code")
    press_on_focused(page)  # the last suggestion accepted too: Alt+K now goes to the search field
    page.wait_for_function("c => document.querySelector(`#code-list li[data-code='${c}']`).className === 'accepted'",
                           arg=third)
    page.keyboard.press("Alt+k")
    assert page.evaluate("document.activeElement.id") == "code-query"
    page.keyboard.type("radiographie thorax")
    page.keyboard.press("Enter")
    page.wait_for_selector("#code-results li[data-code='ZBQK002'] button")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.closest('li').dataset.code") == "ZBQK002"
    press_on_focused(page)
    page.wait_for_selector("#code-list li[data-code='ZBQK002'].accepted")
    assert "ajouté" in page.locator("#code-list li[data-code='ZBQK002']").inner_text()
    # and by the code itself
    page.locator("#code-query").focus()
    page.keyboard.type("I50.9")
    page.keyboard.press("Enter")
    page.wait_for_selector("#code-results li[data-code='I50.9'] button")

    # a code the site's sets lack is refused in words, and nothing is kept
    token = page.locator("meta[name='csrf-token']").get_attribute("content")
    refused = page.context.request.post(f"{site.url}/api/review/{job_id}/codes", headers={
        "Content-Type": "application/json", "X-CSRF-Token": token},
        data=json.dumps({"system": "ccam", "code": "ZZZZ999", "decision": "accepted"}))
    assert refused.status == 400 and "nomenclature du site" in refused.json()["error"]

    accepted = {code for code, state in shown_codes(page).items() if state == "accepted"}
    assert accepted == {first, third, "ZBQK002"}
    decisions = {d.code: d.decision for d in site.store.codes.code_decisions(job_id)}
    assert decisions[second] == "rejected" and decisions["ZBQK002"] == "accepted"

    # validated: the codes are kept with the version, the panel shows them to read, the doctor sees them
    while page.locator("#flags li:not(.resolved) input[type=checkbox]").count():
        page.locator("#flags li:not(.resolved) input[type=checkbox]").first.check()
        page.wait_for_timeout(200)
    page.click("#validate")
    page.wait_for_selector("#document-dialog[open] #document-confirm:not([hidden])", timeout=20000)
    page.click("#document-confirm")
    wait_for(lambda: site.store.jobs.get(job_id).state in (JobState.VALIDATED, JobState.FILED), timeout_s=20)
    job = site.store.jobs.get(job_id)
    assert job.state in (JobState.VALIDATED, JobState.FILED)
    kept = {c.code for c in site.store.codes.report_codes(job_id, job.report_version)}
    assert kept == accepted
    _open_review(page, site, job_id)  # opened again: the codes of the version, to read, not to change
    page.wait_for_function("n => document.querySelectorAll('#code-list li[data-code]').length === n", arg=len(kept))
    assert not page.locator("#code-list button").count() and not page.locator("#code-query").is_visible()

    if job.state is JobState.FILED:
        sidecars = list(site.settings.paths.outbox.rglob(f"*_{job_id}.json"))
        assert sidecars and {c["code"] for c in json.loads(sidecars[0].read_text())["codes"]} == kept
    doctor = _login(browser, site, "martin")
    doctor.goto(f"{site.url}/mine/{job_id}")
    assert {item.get_attribute("data-code") for item in doctor.locator("#codes li").all()} == kept
