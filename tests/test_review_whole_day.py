"""The review screen tried for a whole day by a new secretary (issue 22), in a real browser.

Each numbered defect the day found is a test here, in the order of the issue: what she typed
survives a take-over, the end of her session and a huge paste; a draft never prints as final;
the doctor signs the document that is filed, with its dictated headings; a report whose author
has no account can still be signed; the worktype, the file name, the sex and age of the patient,
and a malformed dose are seen. Then the smaller ones: a suggestion taken back, the words of the
French screens, the points-to-check count, the accounts' messages, and the keys to open a report.

Debian's Chromium driven by Playwright against a real server on a real site (SQLite store, real
intake, the real text layer); the engine's words are given (``Site.dictate_text``).
"""

from __future__ import annotations

import json
import re
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from transcribe.patient_record.filing import file_waiting_reports
from transcribe.patient_record.patients import PatientRecord
from transcribe.patient_record.validation import validate_report
from transcribe.records import JobState
from transcribe.security.accounts import Accounts
from transcribe.work.review_state import MAX_REPORT_CHARS, Workspace

from . import web_site
from .conftest import make_settings, wait_for
from .interface_words import english_words_in
from .web_site import ARTIFACTS, CHROMIUM, PASSWORD, REPORT_TEXT, Site, _login, _open_review, _report_text, _type_at_end

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")

NAMES = {"authors.dr-martin.name": "Dr Paul Martin"}


@pytest.fixture
def day(site: Path, recognizer, text_layer, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    """A running French site; more settings come as the indirect parameter (``with_settings``)."""
    extra = {"review.language": "fr", **NAMES, **getattr(request, "param", {})}
    monkeypatch.setattr(web_site, "make_settings", lambda folder, values: make_settings(folder, {**values, **extra}))
    running = Site(site, recognizer, text_layer)
    yield running
    running.close()


def with_settings(values: dict) -> pytest.MarkDecorator:
    """Run a test on a site with these settings too."""
    return pytest.mark.parametrize("day", [values], indirect=True, ids=["settings"])


def french_only(page, when: str) -> None:
    assert english_words_in(page) == [], when


def saved_text(site: Site, job_id: int) -> str:
    blocks = Workspace(site.store).load(job_id).blocks
    return "\n".join(b.text for b in blocks or ())


def message_of(page) -> str:
    return page.locator("#message").inner_text()


def wait_message(page, words: str, timeout: int = 10000) -> None:
    page.wait_for_function("w => document.getElementById('message').textContent.includes(w)", arg=words,
                           timeout=timeout)


def tick_every_point(page) -> None:
    """Resolve each point to check as she would: a reading, a suggestion, else the box."""
    while page.locator("#flags li:not(.resolved)").count():
        item = page.locator("#flags li:not(.resolved)").first
        left = page.locator("#flags li:not(.resolved)").count()
        if item.locator("button.reading").count():
            item.locator("button.reading").first.click()
        elif item.locator("button.suggestion").count():
            item.locator("button.suggestion").click()
        else:
            item.locator("input[type=checkbox]").check()
        page.wait_for_function("n => document.querySelectorAll('#flags li:not(.resolved)').length < n", arg=left)


def confirm_filing(page) -> None:
    page.locator("#block-0").focus()
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#document-dialog[open] #document-confirm:focus", timeout=20000)
    page.keyboard.press("Enter")


PASTE = """text => {
  const data = new DataTransfer();
  data.setData('text/plain', text);
  document.activeElement.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
}"""


def paste(page, text: str, block: int = 0) -> None:
    """Paste plain text at the end of a block, as Ctrl+V does."""
    page.locator(f"#block-{block}").focus()
    page.evaluate(f"(b => ReviewText.select(b, ReviewText.textOf(b).length, ReviewText.textOf(b).length))"
                  f"(document.getElementById('block-{block}'))")
    page.evaluate(PASTE, text)


def post_save(page, site: Site, job_id: int, payload: dict):
    token = page.locator("meta[name='csrf-token']").get_attribute("content")
    return page.context.request.post(f"{site.url}/api/review/{job_id}/save", data=json.dumps(payload),
                                     headers={"Content-Type": "application/json", "X-CSRF-Token": token})


def filed_paragraphs(site: Site, job_id: int, folder: str) -> list[str]:
    from docx import Document

    filed = next((site.settings.paths.outbox / folder).glob(f"*_{job_id}.docx"))
    return [p.text for p in Document(str(filed)).paragraphs if p.text.strip()]


def shown_jobs(page) -> list[str]:
    page.wait_for_function("document.querySelector('#queue tbody').dataset.shown === window.location.search")
    return [row.get_attribute("data-job") for row in page.locator("#queue tbody tr[data-job]").all()]


def search_for(page, query: str) -> list[str]:
    page.fill("#search", query)
    page.wait_for_function("q => (new URLSearchParams(window.location.search).get('q') || '') === q", arg=query)
    return shown_jobs(page)


# --- 1. take-over ------------------------------------------------------------------------------------------
def test_1_a_take_over_keeps_what_each_secretary_typed_and_says_so_at_once(day: Site, browser) -> None:
    job_id = day.dictate_text("Patient vu ce jour pour une douleur thoracique point", sidecar={"patient": {"id": "100001"}})
    anne = _login(browser, day, "anne")
    _open_review(anne, day, job_id)
    _type_at_end(anne, " Premier ajout.")
    wait_for(lambda: "Premier ajout." in saved_text(day, job_id), timeout_s=10)
    bea = _login(browser, day, "bea")
    _open_review(bea, day, job_id)
    bea.wait_for_selector("#lock-bar:not([hidden])", timeout=20000)
    bea.fill("#takeover-reason", "Anne est partie en réunion")
    bea.click("#takeover")
    bea.wait_for_selector("#lock-bar", state="hidden")
    # anne types a sentence before her screen asked who holds the report: refused, and she is told at once
    _type_at_end(anne, " Phrase d'Anne après la reprise.")
    anne.keyboard.press("Control+s")
    anne.wait_for_selector("#kept-text:not([hidden])", timeout=5000)
    assert "Phrase d'Anne après la reprise." in anne.locator("#kept-text textarea").input_value()  # to copy
    assert "bea" in anne.locator("#lock-message").inner_text()
    anne.wait_for_function("!document.getElementById('saved').textContent.includes('Enregistrement')")
    # her screen then shows the report as it is now, read-only (it reloads after keeping her text aside)
    anne.wait_for_selector("#block-0[contenteditable='false']", timeout=10000)
    french_only(anne, "taken over")
    # the server keeps it, with its author; bea's screen shows it, to copy what she needs
    refused = wait_for(lambda: [d for d in Workspace(day.store).refused(job_id) if "Phrase d'Anne" in d.text])
    assert refused[0].username == "anne"
    assert "Phrase d'Anne" not in saved_text(day, job_id)
    bea.reload()
    bea.wait_for_selector("body[data-ready='1']")
    bea.wait_for_selector("#refused-drafts:not([hidden])")
    bea.click("#refused-drafts summary")
    assert "anne" in bea.locator("#refused-drafts li").first.inner_text()
    assert "Phrase d'Anne après la reprise." in bea.locator("#refused-drafts textarea").first.input_value()
    french_only(bea, "a refused draft")
    ARTIFACTS.mkdir(exist_ok=True)
    anne.screenshot(path=str(ARTIFACTS / "review-screen-taken-over.png"), full_page=True)

    # b's screen never overwrites unsaved text: she types before her screen learnt that anne holds the report
    other = day.dictate_text("Deuxième patient vu ce jour point", clip="fr-mg-002")
    _open_review(anne, day, other)
    bea.clock.install()
    _open_review(bea, day, other)
    bea.clock.pause_at(int(time.time() * 1000) + 1000)  # her screen's timers stop: it does not ask who holds it
    _type_at_end(anne, " Anne tient ce compte rendu.")
    wait_for(lambda: "Anne tient" in saved_text(day, other), timeout_s=10)
    _type_at_end(bea, " Béa tapait en même temps.")
    bea.keyboard.press("Control+s")
    bea.wait_for_selector("#kept-text:not([hidden])", timeout=10000)
    bea.clock.resume()
    bea.wait_for_function("t => document.querySelector('#report').textContent.includes(t)", arg="Anne tient",
                          timeout=20000)  # her screen now shows anne's save...
    assert "Béa tapait en même temps." in bea.locator("#kept-text textarea").input_value()  # ...and keeps hers
    assert any("Béa tapait" in d.text and d.username == "bea" for d in Workspace(day.store).refused(other))


# --- 2. the end of a session -------------------------------------------------------------------------------
def test_2_an_ended_session_loses_nothing_once_she_logs_in_again(day: Site, browser) -> None:
    job_id = day.dictate_text("Patient vu ce jour point Examen normal point", sidecar={"patient": {"id": "100001"}})
    anne = _login(browser, day, "anne")
    _open_review(anne, day, job_id)
    anne.context.clear_cookies()  # her session ends (idle, or ended by the admin)
    _type_at_end(anne, " Tapé après la fin de la session.")
    wait_message(anne, "session a pris fin")
    french_only(anne, "session ended")
    anne.click("#login-again")
    anne.wait_for_url("**/login**")
    anne.fill("#username", "anne")
    anne.fill("#password", PASSWORD)
    anne.click("#login-button")
    anne.wait_for_url(f"**/review/{job_id}")
    anne.wait_for_selector("body[data-ready='1']")
    assert "Tapé après la fin de la session." in _report_text(anne)
    wait_for(lambda: "Tapé après la fin de la session." in saved_text(day, job_id), timeout_s=10)
    anne.wait_for_function("Object.keys(localStorage).length === 0")  # kept on the desk only until saved
    # a new password set by the admin ends it too; she reloads and logs in with the new one
    Accounts(day.store).set_password("anne", "a brand new password")
    _type_at_end(anne, " Et après le nouveau mot de passe.")
    wait_message(anne, "session a pris fin")
    anne.reload()
    anne.wait_for_url("**/login**")
    anne.fill("#username", "anne")
    anne.fill("#password", "a brand new password")
    anne.click("#login-button")
    anne.wait_for_selector("body[data-ready='1']")
    assert "Et après le nouveau mot de passe." in _report_text(anne)
    wait_for(lambda: "Et après le nouveau mot de passe." in saved_text(day, job_id), timeout_s=10)


# --- 3. a huge paste ---------------------------------------------------------------------------------------
LETTER_SENTENCE = ("Le patient a été hospitalisé pour une décompensation cardiaque globale, traitée par furosémide "
                   "intraveineux avec une bonne évolution clinique et biologique. ")


def test_3_a_huge_paste_is_refused_and_a_discharge_letter_types_at_normal_speed(day: Site, browser) -> None:
    job_id = day.dictate_text("Compte rendu d'hospitalisation point à la ligne Conclusion deux points retour à domicile point",
                              sidecar={"patient": {"id": "100001"}})
    anne = _login(browser, day, "anne")
    _open_review(anne, day, job_id)
    before = _report_text(anne)
    paste(anne, "x " * 60_000)  # 120,000 characters
    wait_message(anne, "100 000")
    assert _report_text(anne) == before and not saved_text(day, job_id)
    french_only(anne, "paste refused")
    # the server refuses it too, in words: nothing is cut silently
    answer = post_save(anne, day, job_id, {"blocks": [{"key": "body", "heading": "", "text": "y" * (MAX_REPORT_CHARS + 1)}]})
    assert answer.status == 413 and "100 000" in answer.json()["error"]
    assert "yyyy" not in saved_text(day, job_id)
    # a discharge letter of 20 KB: pasted, saved, shown again, and typed into at normal speed
    letter = LETTER_SENTENCE * (20_000 // len(LETTER_SENTENCE) + 1)
    paste(anne, " " + letter)
    wait_for(lambda: len(saved_text(day, job_id)) > 20_000, timeout_s=20)
    anne.reload()
    anne.wait_for_selector("body[data-ready='1']")
    nodes = anne.evaluate("document.getElementById('block-0').childNodes.length")
    assert nodes < 100, f"the typed text is shown as {nodes} nodes"  # not one node per word
    anne.locator("#block-0").focus()
    anne.evaluate("(b => ReviewText.select(b, 200, 200))(document.getElementById('block-0'))")  # in the middle
    keys = "abcdefghijklmnopqrstuvwxyz0123456789"
    started = time.monotonic()
    for key in keys:
        anne.keyboard.press(key)
    anne.evaluate("() => new Promise(done => requestAnimationFrame(() => setTimeout(done)))")
    per_key_ms = (time.monotonic() - started) * 1000 / len(keys)
    print(f"\nKEY-LATENCY: {per_key_ms:.0f} ms a key in a report of {len(_report_text(anne)) // 1000} KB")
    assert per_key_ms < 250, "typing in a 20 KB report is slow"  # generous: about 0.4 s a key before
    assert keys in _report_text(anne)
    wait_for(lambda: keys in saved_text(day, job_id), timeout_s=20)


# --- 4. printing a draft -----------------------------------------------------------------------------------
def test_4_a_draft_printed_from_the_preview_is_marked_brouillon(day: Site, browser) -> None:
    job_id = day.dictate_text("Patient vu ce jour point Paracétamol 5,000 grammes si douleur point")  # no patient
    anne = _login(browser, day, "anne")
    _open_review(anne, day, job_id)
    anne.evaluate("window.print = () => { document.body.dataset.printed = '1'; }")
    anne.keyboard.press("Alt+p")
    anne.wait_for_selector("#document-dialog[open]")
    anne.click("#document-print")
    assert anne.locator("body").get_attribute("data-printed") == "1"
    anne.emulate_media(media="print")
    assert "BROUILLON" in anne.locator("#document-sheet").inner_text()  # what the printer gets
    anne.emulate_media(media="screen")
    french_only(anne, "preview")


# --- 5. signing and filing the same document -------------------------------------------------------------------
@with_settings({"review.doctor_signs": True})
def test_5_the_doctor_signs_the_document_that_is_filed_and_a_dictated_heading_keeps_its_words(
    day: Site, browser
) -> None:
    job_id = day.dictate_text("Patient vu ce jour pour une angine point à la ligne Traitement deux points paracétamol "
                              "un gramme trois fois par jour pendant cinq jours point",
                              sidecar={"patient": {"id": "100001"}})
    anne = _login(browser, day, "anne")
    _open_review(anne, day, job_id)
    assert anne.locator("#report h3.heading").all_inner_texts() == ["Traitement"]
    tick_every_point(anne)
    confirm_filing(anne)
    wait_message(anne, "signature")
    martin = _login(browser, day, "martin")
    martin.goto(f"{day.url}/mine/{job_id}")
    shown = [t for t in martin.locator("#document-sheet > :not(header)").all_inner_texts() if t.strip()]
    assert "Traitement" in shown and "Conduite à tenir" not in shown
    martin.click("#sign")
    martin.wait_for_url("**/mine?message=done.signed")
    filed = filed_paragraphs(day, job_id, "100001_DUPONT")
    assert filed == shown  # he signed exactly what is filed
    assert english_words_in(martin) == []


# --- 6. a report whose author has no account ---------------------------------------------------------------
@with_settings({"review.doctor_signs": True})
def test_6_a_report_whose_author_has_no_account_is_said_at_validation_waits_in_view_and_an_admin_signs_it(
    day: Site, browser
) -> None:
    job_id = day.dictate_text("Patient vu ce jour point Examen normal point", author="unknown",
                              sidecar={"patient": {"id": "100001"}})
    anne = _login(browser, day, "anne")
    _open_review(anne, day, job_id)
    assert anne.locator("#author").inner_text() == "Auteur inconnu"
    confirm_filing(anne)
    wait_message(anne, "administrateur")
    french_only(anne, "validated, waits for an admin")
    assert day.store.jobs.get(job_id).state is JobState.VALIDATED
    anne.goto(f"{day.url}/queue")
    shown_jobs(anne)
    waiting = anne.locator("#counts a[data-state='to-sign']")
    assert waiting.inner_text().endswith("1")
    waiting.click()
    assert shown_jobs(anne) == [str(job_id)]
    assert "administrateur" in anne.locator(f"#queue tr[data-job='{job_id}'] td.state").inner_text()
    french_only(anne, "worklist, waiting for a signature")
    root = _login(browser, day, "root")
    root.goto(f"{day.url}/mine")
    root.click(f".to-sign li[data-job='{job_id}'] a")
    root.wait_for_url(f"**/mine/{job_id}")
    root.click("#sign")
    root.wait_for_url("**/mine?message=done.signed")
    assert day.store.jobs.get(job_id).state is JobState.FILED
    assert day.store.signoffs.signature(job_id, 1).signed_by == "root"


@pytest.mark.parametrize("rule", ["nobody", "martin"])
def test_6_the_site_rule_for_authors_without_an_account(site: Path, recognizer, text_layer, rule: str) -> None:
    running = Site(site, recognizer, text_layer, {"review.doctor_signs": True, "review.signer_without_account": rule})
    try:
        from transcribe.patient_record.signatures import awaiting_signature, may_sign
        from transcribe.security.accounts import Accounts as Users

        job_id = running.dictate_text("Contrôle dans trois mois point", author="dr-absent",
                                      sidecar={"patient": {"id": "100001"}})
        validate_report(running.settings, running.store, job_id, validator="anne", patient_id="100001",
                        flags_checked=True)
        job = running.store.jobs.get(job_id)
        if rule == "nobody":  # filed without a signature
            assert not awaiting_signature(running.settings, running.store, job)
            assert file_waiting_reports(running.settings, running.store, running.text_layer.vocabulary) == [job_id]
        else:  # the doctor the site named signs it; nobody else does
            assert awaiting_signature(running.settings, running.store, job)
            users = Users(running.store)
            assert may_sign(running.settings, running.store, job, users.user("martin"))
            assert not may_sign(running.settings, running.store, job, users.user("root"))
            assert file_waiting_reports(running.settings, running.store, running.text_layer.vocabulary) == []
    finally:
        running.close()


# --- 7. the worktype -------------------------------------------------------------------------------------------
def test_7_the_worktype_is_chosen_on_the_review_screen(day: Site, browser) -> None:
    # a gastroscopy the recorder sent as a consultation (its sidecar says so)
    job_id = day.dictate_text("Gastroscopie réalisée sous anesthésie générale point Muqueuse normale point",
                              sidecar={"patient": {"id": "100001"}, "worktype": "consultation"})
    anne = _login(browser, day, "anne")
    _open_review(anne, day, job_id)
    assert anne.locator("#worktype").input_value() == "consultation"
    anne.keyboard.press("Alt+t")  # from the text, with the keyboard
    assert anne.evaluate("document.activeElement.id") == "worktype"
    anne.select_option("#worktype", "examination")
    wait_for(lambda: Workspace(day.store).load(job_id).worktype == "examination", timeout_s=10)
    french_only(anne, "worktype")
    tick_every_point(anne)
    confirm_filing(anne)
    wait_message(anne, "100001_DUPONT", timeout=30000)
    assert day.store.jobs.get(job_id).worktype == "examination"
    assert list((day.settings.paths.outbox / "100001_DUPONT").glob(f"*_examination_{job_id}.docx"))


# --- 8. what is known of each dictation ----------------------------------------------------------------------
def test_8_the_worklist_shows_the_file_name_and_the_identity_each_dictation_carries_and_finds_them(
    day: Site, browser
) -> None:
    named = day.dictate_text("Consultation de suivi point", name="DUPONT_Marie_consultation.opus")
    plain = day.dictate_text("Note de suivi point", clip="fr-mg-002")
    anne = _login(browser, day, "anne")
    anne.goto(f"{day.url}/queue")
    assert set(shown_jobs(anne)) == {str(named), str(plain)}
    row = anne.locator(f"#queue tr[data-job='{named}']")
    assert row.locator("td.file").inner_text() == "DUPONT_Marie_consultation.opus"
    carried = row.locator("td.patient").inner_text()
    assert "DUPONT Marie" in carried and "nom du fichier" in carried
    assert search_for(anne, "dupont") == [str(named)]
    assert search_for(anne, "marie dupont") == [str(named)]
    assert search_for(anne, "DUPONT_Marie_consultation") == [str(named)]
    search_for(anne, "")
    french_only(anne, "worklist")
    ARTIFACTS.mkdir(exist_ok=True)
    anne.screenshot(path=str(ARTIFACTS / "worklist-file-names.png"), full_page=True)


# --- 9. sex and age ---------------------------------------------------------------------------------------
def test_9_the_dictated_sex_and_age_are_compared_with_the_chosen_patient(day: Site, browser) -> None:
    today = date.today()
    born = date(today.year - 64, today.month, min(today.day, 28)) - timedelta(days=10)  # 64 years old
    day.store.patients.import_patients([PatientRecord("100009", "Lefort", "Lucie", born, "F")])
    job_id = day.dictate_text("Monsieur de soixante-huit ans vu ce jour pour un contrôle point Examen normal point",
                              sidecar={"patient": {"id": "100009"}})
    anne = _login(browser, day, "anne")
    _open_review(anne, day, job_id)
    anne.wait_for_selector("#identity-conflict")
    conflict = anne.locator("#identity-conflict").inner_text()
    assert "homme" in conflict and "68 ans" in conflict and "64 ans" in conflict
    french_only(anne, "sex and age conflict")
    # said before the confirmation dialog, not after it
    anne.locator("#block-0").focus()
    anne.keyboard.press("Control+Enter")
    wait_message(anne, "cochez la case")
    assert not anne.locator("#document-dialog").evaluate("d => d.open")
    assert anne.evaluate("document.activeElement.id") == "confirm-identity"


# --- 10. a malformed number in a dose ----------------------------------------------------------------------
def test_10_a_malformed_number_in_a_dose_is_a_point_to_check(day: Site, browser) -> None:
    job_id = day.dictate_text("Paracétamol 5,005,2500 gramme le soir point", sidecar={"patient": {"id": "100001"}})
    anne = _login(browser, day, "anne")
    _open_review(anne, day, job_id)
    reasons = anne.locator("#flags li").all_inner_texts()
    assert any("5,005,2500" in r for r in reasons), reasons
    french_only(anne, "a malformed dose")


# --- smaller ones ------------------------------------------------------------------------------------------
CONSULTATION = (
    "Patient vu ce jour pour des fures aux genoux point à la ligne Traitement deux points paracétamol 500mg "
    "si douleur point"
)


def test_a_suggestion_is_taken_back_with_its_button_or_alt_z(day: Site, browser) -> None:
    job_id = day.dictate_text(CONSULTATION, sidecar={"patient": {"id": "100001"}})
    anne = _login(browser, day, "anne")
    _open_review(anne, day, job_id)
    item = anne.locator("#flags li", has=anne.locator("button.suggestion"))
    index = item.get_attribute("data-flag")
    item.locator("button.suggestion").click()
    anne.wait_for_function(f"({REPORT_TEXT}).includes('des fissures aux')")
    framed = f"Array.from(document.querySelectorAll('#report [data-flags~=\"{index}\"]')).map(s => s.textContent).join('')"
    assert anne.evaluate(framed) == "fissures"  # the frame keeps every letter
    undo = anne.locator(f"#flags li[data-flag='{index}'] button.undo-suggestion")
    undo.click()
    anne.wait_for_function(f"({REPORT_TEXT}).includes('des fures aux')")
    assert anne.evaluate(framed) == "fures"  # the word as heard, framed whole again
    assert not anne.locator(f"#flags li[data-flag='{index}'] input").is_checked()
    assert "réécrit" not in message_of(anne)
    # again, with the keys: Alt+1 writes it, Alt+Z takes it back
    anne.locator(f"#flags li[data-flag='{index}'] button.flag-text").click()
    anne.keyboard.press("Alt+1")
    anne.wait_for_function(f"({REPORT_TEXT}).includes('des fissures aux')")
    anne.keyboard.press("Alt+z")
    anne.wait_for_function(f"({REPORT_TEXT}).includes('des fures aux')")
    assert "réécrit" not in message_of(anne)
    french_only(anne, "suggestion taken back")


def test_the_french_screens_have_no_english_or_odd_words(day: Site, browser) -> None:
    today = date.today()
    day.store.patients.import_patients([PatientRecord("100010", "Moreau", "Claire", date(1970, 5, 4), "F")])
    job_id = day.dictate_text(CONSULTATION + " Revoir dans un mois zzz point", author="unknown",
                              sidecar={"patient": {"id": "100010"}})
    anne = _login(browser, day, "anne")
    anne.goto(f"{day.url}/queue")
    shown_jobs(anne)
    assert "unknown" not in anne.locator("#queue").inner_text()  # the author nobody named
    assert "Auteur inconnu" in anne.locator(f"#queue tr[data-job='{job_id}'] td.author").inner_text()
    _open_review(anne, day, job_id)
    identity = anne.locator("#identity").inner_text()
    assert "Identité dictée (la fiche jointe)" not in identity  # the sidecar is not dictated
    # an automatic change that only moved a space is shown with its word
    anne.locator("#report span.edit", has_text="mg").first.click()
    anne.wait_for_selector("#edit-detail:not([hidden])")
    detail = anne.locator("#edit-detail").inner_text()
    assert "« mg » → « mg »" not in detail and "500" in detail, detail
    # a replacement that succeeded does not say "not found"
    anne.keyboard.press("Control+h")
    anne.keyboard.type("zzz")
    anne.keyboard.press("Tab")
    anne.keyboard.type("à jeun")
    anne.keyboard.press("Enter")
    anne.wait_for_function(f"({REPORT_TEXT}).includes('à jeun')")
    assert anne.locator("#find-count").inner_text() != "Introuvable"
    anne.keyboard.press("Escape")
    # the document of a woman says "née"
    anne.keyboard.press("Alt+p")
    anne.wait_for_selector("#document-dialog[open]")
    sheet = anne.locator("#document-sheet").inner_text()
    assert "née le" in sheet and "né(e)" not in sheet
    anne.keyboard.press("Escape")
    french_only(anne, "review screen")
    # filed: the worklist does not call its patient "proposed"
    tick_every_point(anne)
    confirm_filing(anne)
    wait_message(anne, "100010_MOREAU", timeout=30000)
    anne.goto(f"{day.url}/queue?status=filed")
    shown_jobs(anne)
    assert "proposé" not in anne.locator(f"#queue tr[data-job='{job_id}'] td.patient").inner_text()
    # the statistics' weeks, the admin's words
    root = _login(browser, day, "root")
    root.goto(f"{day.url}/stats?by=week")
    stats = root.locator("main").inner_text() + root.locator("svg.chart").inner_html()
    assert not re.search(r"\bW\d\d\b", stats) and f"semaine {today.isocalendar().week}" in stats
    root.goto(f"{day.url}/admin")
    assert "inbox" not in root.locator("main").inner_text()
    assert english_words_in(root) == []


def test_the_points_to_check_count_of_the_worklist_follows_her_ticks(day: Site, browser) -> None:
    job_id = day.dictate_text(CONSULTATION + " Paracétamol 5,000 grammes le soir point",
                              sidecar={"patient": {"id": "100001"}})
    anne = _login(browser, day, "anne")
    anne.goto(f"{day.url}/queue")
    shown_jobs(anne)
    count = anne.locator(f"#queue tr[data-job='{job_id}'] td.flags")
    first = int(count.inner_text())
    assert first >= 2
    _open_review(anne, day, job_id)
    anne.locator("#flags li:not(.resolved) input[type=checkbox]:not([disabled])").first.check()
    anne.wait_for_function("n => document.querySelectorAll('#flags li:not(.resolved)').length < n", arg=first)
    anne.goto(f"{day.url}/queue")
    shown_jobs(anne)
    assert int(count.inner_text()) == first - 1


def test_the_accounts_and_forms_say_what_happened(day: Site, browser) -> None:
    accounts = Accounts(day.store)
    accounts.set_disabled("bea", True)
    page = browser.new_context(bypass_csp=True).new_page()
    page.goto(f"{day.url}/login")
    page.fill("#username", "bea")
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    text = page.locator("main").inner_text()
    assert "désactivé" in text and "mot de passe incorrect" not in text
    page.fill("#username", "bea")
    page.fill("#password", "not her password")
    page.click("#login-button")
    assert "incorrect" in page.locator("main").inner_text()  # a wrong password tells nothing of the account
    root = _login(browser, day, "root")
    root.goto(f"{day.url}/admin")
    assert root.locator("form[action='/admin/users'] select[name=role]").input_value() == "secretary"
    # a form sent with a token that expired: a page saying so, not raw JSON
    root.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(i => i.value = 'expired')")
    root.locator("#users tr[data-user='anne'] form.sessions-form button").click()
    root.wait_for_load_state()
    body = root.locator("body").inner_text()
    assert not body.lstrip().startswith("{") and "Le formulaire a expiré" in body
    assert english_words_in(root) == []


def test_the_first_report_opens_from_the_worklist_with_a_key_or_two(day: Site, browser) -> None:
    first = day.dictate_text("Premier compte rendu point", clip="fr-mg-002")
    day.dictate_text("Deuxième compte rendu point", clip="fr-mg-003")
    anne = _login(browser, day, "anne")
    anne.goto(f"{day.url}/queue")
    shown_jobs(anne)
    tabs = 0
    while anne.evaluate("document.activeElement.getAttribute('href')") != f"/review/{first}" and tabs < 30:
        anne.keyboard.press("Tab")
        tabs += 1
    anne.keyboard.press("Enter")
    anne.wait_for_url(f"**/review/{first}")
    print(f"\nWORKLIST-KEYBOARD: {tabs} Tab press(es), then Enter")
    assert tabs <= 2
