"""The secretary's day, in a real browser: the worklist, the doctor's view, administration, statistics.

Debian's Chromium driven by Playwright against a real server on a real site (SQLite store,
real intake, the real text layer). The engine's words are given (one word every 0.4 s) where a
case needs exact words; everything after the engine is the real pipeline. A screenshot of the
worklist is kept in test-artifacts/.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from transcribe.patient_record.filing import file_waiting_reports
from transcribe.patient_record.patient_import import parse_patient_csv
from transcribe.patient_record.patients import PatientRecord
from transcribe.patient_record.signatures import SignatureMissing, require_signature
from transcribe.patient_record.validation import validate_report
from transcribe.records import JobState
from transcribe.security.accounts import Accounts
from transcribe.vocabulary.watch import VocabularyWatch
from transcribe.worker import load_text_layer

from . import web_site
from .conftest import make_settings, wait_for
from .interface_words import english_words_in
from .web_site import ARTIFACTS, CHROMIUM, Site, _login, _open_review, _validate

SCREENSHOTS = os.environ.get("TRANSCRIBE_TEST_SCREENSHOTS") == "1"  # the French screens, to look at
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")

AUTHORS = {"authors.dr-martin.name": "Dr Paul Martin", "authors.dr-durand.name": "Dr Claire Durand",
           "authors.dr-durand.specialty": "endocrinology"}


@pytest.fixture
def day_site(site: Path, recognizer, text_layer, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    """A running site whose authors have names; more settings come as the indirect parameter (``with_settings``)."""
    extra = {**AUTHORS, **getattr(request, "param", {})}
    monkeypatch.setattr(web_site, "make_settings", lambda folder, values: make_settings(folder, {**values, **extra}))
    running = Site(site, recognizer, text_layer)
    yield running
    running.close()


def with_settings(values: dict) -> pytest.MarkDecorator:
    """Run a test on a site with these settings too."""
    return pytest.mark.parametrize("day_site", [values], indirect=True, ids=["settings"])


def dictate_words(site: Site, clip: str, text: str, *, author: str = "dr-martin", sidecar: dict | None = None,
                  language: str = "fr") -> int:
    """A real dictation (intake, text layer, draft) whose engine words are ``text``; returns its job id."""
    return site.dictate_text(text, language, sidecar, clip=clip, author=author)


def save_as(page, site: Site, job_id: int, payload: dict) -> None:
    """What the review screen sends when the secretary saves (her choice of patient...), with her session."""
    token = page.locator("meta[name='csrf-token']").get_attribute("content")
    response = page.context.request.post(f"{site.url}/api/review/{job_id}/save", data=json.dumps(payload),
                                         headers={"Content-Type": "application/json", "X-CSRF-Token": token})
    assert response.status == 200, response.text()


def shown_jobs(page) -> list[str]:
    """The job ids of the worklist's rows, top to bottom, once it shows what the address asks."""
    page.wait_for_function("document.querySelector('#queue tbody').dataset.shown === window.location.search")
    return [row.get_attribute("data-job") for row in page.locator("#queue tbody tr[data-job]").all()]


def search_for(page, query: str) -> list[str]:
    """Type a search, as she does: the worklist follows once she stops typing."""
    page.fill("#search", query)
    page.wait_for_function("q => (new URLSearchParams(window.location.search).get('q') || '') === q", arg=query)
    return shown_jobs(page)


def row_of(page, job_id: int):
    return page.locator(f"#queue tr[data-job='{job_id}']")


# --- the patient search of the store -----------------------------------------------------------------
def test_patients_are_found_by_their_names_in_any_order_and_by_identifier(store) -> None:
    store.patients.import_patients([
        PatientRecord("100001", "Dupont", "Jean", date(1950, 3, 12)),
        PatientRecord("100002", "Dupont", "Marie", date(1972, 8, 1)),
        PatientRecord("100003", "Durand", "Marie-Claire", date(1962, 4, 3)),
        PatientRecord("100004", "Lefèvre", "Éloïse", None),
        PatientRecord("100005", "de la Tour", "Anne-Sophie", None),
    ])

    def found(query: str) -> list[str]:
        return [p.patient_id for p in store.patients.search_patients(query)]

    assert found("Jean DUPONT") == found("dupont jean") == found("jean dupont") == ["100001"]
    assert found("Marie") == ["100002", "100003"]  # a given name alone, and the second of two given names
    assert found("claire durand") == found("Marie-Claire") == ["100003"]
    assert found("LEFEVRE eloise") == found("Éloïse") == ["100004"]  # accents and case ignored
    assert found("anne tour") == ["100005"]
    assert found("100003") == ["100003"] and len(found("10000")) == 5  # the start of an identifier
    assert found("jean durand") == [] and found("%") == [] and found("") == []
    page, total = store.patients.browse_patients("", offset=2, limit=2)
    assert total == 5 and [p.patient_id for p in page] == ["100002", "100003"]  # de la Tour, Dupont J., Dupont M...


# --- the worklist ------------------------------------------------------------------------------------
def test_the_worklist_shows_chosen_patients_sorts_filters_searches_and_has_a_mine_view(day_site: Site, browser) -> None:
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    later = (date.today() + timedelta(days=10)).isoformat()
    letter = dictate_words(day_site, "fr-courrier-01", "Cher confrère, je vous adresse ce patient pour une hypertension.",
                           sidecar={"patient": {"id": "100001"}, "worktype": "letter", "due_date": yesterday})
    urgent = dictate_words(day_site, "fr-endo-01", "Consultation de contrôle, bilan thyroïdien normal.",
                           author="dr-durand", sidecar={"patient": {"id": "100003"}, "priority": "urgent",
                                                        "due_date": later, "worktype": "consultation"})
    note = dictate_words(day_site, "fr-mg-002", "Note de suivi, revoir dans un mois.")
    anne = _login(browser, day_site, "anne")
    anne.goto(f"{day_site.url}/queue")
    assert shown_jobs(anne) == [str(urgent), str(letter), str(note)]  # urgent first, then by due date
    # the secretary chooses another patient for the letter: the worklist shows her choice, not the proposal
    save_as(anne, day_site, letter, {"patient_id": "100003"})
    row = row_of(anne, letter)
    wait_for(lambda: "100003" in row.locator("td.patient").inner_text(), timeout_s=15)
    assert "DURAND Marie-Claire" in row.locator("td.patient").inner_text()
    assert "proposed" not in row.locator("td.patient").inner_text()
    assert "proposed" in row_of(anne, urgent).locator("td.patient").inner_text()  # from the sidecar, not chosen yet
    # every column she needs
    assert row.locator("td.author").inner_text() == "Dr Paul Martin"
    assert row_of(anne, urgent).locator("td.author").inner_text() == "Dr Claire Durand"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", row.locator("td.dictated").inner_text())
    assert "overdue" in row.locator("td.due").inner_text() and "overdue" not in row_of(anne, urgent).inner_text()
    assert row.locator("td.worktype").inner_text() == "Letter"
    assert re.fullmatch(r"\d+:\d{2}", row.locator("td.duration").inner_text())
    assert row.locator("td.holder").inner_text() == "Being edited by anne"  # saving took the report
    assert row.locator("td.flags").inner_text().isdigit()
    ARTIFACTS.mkdir(exist_ok=True)
    anne.screenshot(path=str(ARTIFACTS / "worklist.png"), full_page=True)

    # sorting by a column, then the other way
    anne.click("#queue th a.sort[data-sort='patient']")
    names = [anne.locator(f"#queue tr[data-job='{j}'] td.patient .name").inner_text() for j in shown_jobs(anne)[:2]]
    assert names == ["DURAND Marie-Claire", "DURAND Marie-Claire"] and shown_jobs(anne)[2] == str(note)
    anne.click("#queue th a.sort[data-sort='author']")
    assert shown_jobs(anne)[0] == str(urgent)  # Dr Claire Durand before Dr Paul Martin
    anne.click("#queue th a.sort[data-sort='author']")
    assert shown_jobs(anne)[-1] == str(urgent) and "order=desc" in anne.url
    assert anne.locator("#queue th[data-column='author']").get_attribute("aria-sort") == "descending"
    # filters apply at once: no button to press
    anne.select_option("#author-filter", "dr-durand")
    assert shown_jobs(anne) == [str(urgent)]
    anne.select_option("#author-filter", "")
    anne.select_option("#worktype-filter", "letter")
    assert shown_jobs(anne) == [str(letter)]
    anne.select_option("#worktype-filter", "")
    # one search box: patient names in any order, the identifier, words of the text (accents ignored)
    for query, expected in [("marie-claire durand", {letter, urgent}), ("durand MARIE", {letter, urgent}),
                            ("100003", {letter, urgent}), ("thyroidien", {urgent}), ("hypertension durand", {letter}),
                            ("suivi mois", {note}), ("dupont", set())]:
        assert set(search_for(anne, query)) == {str(j) for j in expected}, query
    assert len(search_for(anne, "")) == 3
    anne.reload()  # the address keeps the filters and the sort
    assert "sort=author" in anne.url and len(shown_jobs(anne)) == 3
    # "mine": the reports she holds or last worked on, in every state
    anne.check("#mine-filter")
    assert shown_jobs(anne) == [str(letter)] and anne.locator("#status-filter").input_value() == "all"
    bea = _login(browser, day_site, "bea")
    bea.goto(f"{day_site.url}/queue?mine=1")
    assert shown_jobs(bea) == []


# --- the doctor --------------------------------------------------------------------------------------
@with_settings({"review.doctor_signs": True})
def test_the_doctor_reads_listens_answers_and_signs(day_site: Site, browser) -> None:
    job_id = dictate_words(day_site, "fr-cardio-01", "Patient vu en consultation, tension artérielle normale.",
                           sidecar={"patient": {"id": "100001"}})
    day_site.store.jobs.return_to_author(job_id, "Dose inaudible à 0:04, merci de préciser.", "anne")
    martin = _login(browser, day_site, "martin")
    assert martin.url.endswith("/mine")
    assert "Dose inaudible" in martin.locator(f".returned li[data-job='{job_id}']").inner_text()
    martin.click(f"#mine tr[data-job='{job_id}'] a.view")
    martin.wait_for_url(f"**/mine/{job_id}")
    assert "tension artérielle normale" in martin.locator("#report-text").inner_text()
    martin.evaluate("document.getElementById('player').play()")  # he listens to his own dictation
    martin.wait_for_function("document.getElementById('player').currentTime > 0", timeout=15000)
    # he answers the comment; the secretary sees the answer in her worklist
    martin.fill("#reply-text", "Il s'agit de Kardégic 75 mg, un comprimé le matin.")
    martin.click("#reply")
    martin.wait_for_selector("#thread .reply")
    assert "Kardégic 75 mg" in martin.locator("#thread").inner_text()
    anne = _login(browser, day_site, "anne")
    anne.goto(f"{day_site.url}/queue?status=returned")
    assert shown_jobs(anne) == [str(job_id)]
    thread = row_of(anne, job_id).locator("details.thread")
    thread.locator("summary").click()
    assert "martin" in thread.inner_text() and "Kardégic 75 mg" in thread.inner_text()
    martin.click("#resubmit")
    martin.wait_for_url("**/mine")
    assert day_site.store.jobs.get(job_id).state is JobState.DRAFTED
    # a doctor hears only his own dictations
    other = dictate_words(day_site, "fr-endo-02", "Bilan thyroïdien.", author="dr-durand")
    assert martin.goto(f"{day_site.url}/mine/{other}").status == 403
    assert martin.context.request.get(f"{day_site.url}/audio/{other}").status == 403

    # the secretary validates on her screen; the report waits for the doctor's signature before it is filed
    _open_review(anne, day_site, job_id)
    for box in anne.locator("#flags input[type=checkbox]").all():
        box.check()
        anne.wait_for_timeout(300)
    _validate(anne)
    anne.wait_for_function("document.getElementById('message').textContent.includes(\"author's signature\")")
    anne.wait_for_url("**/queue")
    job = day_site.store.jobs.get(job_id)
    assert job.state is JobState.VALIDATED and not list(day_site.settings.paths.outbox.glob("*/*.docx"))
    with pytest.raises(SignatureMissing):
        require_signature(day_site.settings, day_site.store, job)
    anne.goto(f"{day_site.url}/queue?status=validated")
    shown_jobs(anne)
    assert "waits for the author's signature" in row_of(anne, job_id).locator("td.state").inner_text()
    martin.goto(f"{day_site.url}/mine")
    martin.click(f".to-sign li[data-job='{job_id}'] a")
    martin.wait_for_url(f"**/mine/{job_id}")
    assert "Validated; waits for the author's signature" in martin.content()
    martin.click("#sign")
    martin.wait_for_url("**/mine?message=done.signed")
    assert "Report signed and filed" in martin.locator("main").inner_text()
    assert day_site.store.jobs.get(job_id).state is JobState.FILED
    assert day_site.store.signoffs.signature(job_id, 1).signed_by == "martin"
    assert list((day_site.settings.paths.outbox / "100001_DUPONT").glob(f"*_{job_id}.docx"))
    martin.goto(f"{day_site.url}/mine/{job_id}")
    assert "Signed by martin" in martin.locator("#signed").inner_text()


@with_settings({"review.doctor_signs": True})
def test_filing_waits_for_the_signature_when_the_site_wants_one(day_site: Site) -> None:
    """With review.doctor_signs, the service's filing leaves an unsigned report validated (filing.py must ask)."""
    job_id = dictate_words(day_site, "fr-cardio-02", "Contrôle dans trois mois.", sidecar={"patient": {"id": "100001"}})
    validate_report(day_site.settings, day_site.store, job_id, validator="anne", patient_id="100001",
                    flags_checked=True)
    assert file_waiting_reports(day_site.settings, day_site.store, day_site.text_layer.vocabulary) == []
    assert day_site.store.jobs.get(job_id).state is JobState.VALIDATED
    day_site.store.signoffs.sign(job_id, 1, "martin")
    assert file_waiting_reports(day_site.settings, day_site.store, day_site.text_layer.vocabulary) == [job_id]


# --- administration ----------------------------------------------------------------------------------
def admin_action(page, site: Site, username: str, form: str, **fields: str) -> None:
    page.goto(f"{site.url}/admin")
    row = page.locator(f"#users tr[data-user='{username}']")
    for name, value in fields.items():
        if name == "role":
            row.locator(f"form.{form} select[name=role]").select_option(value)
        else:
            row.locator(f"form.{form} input[name={name}]").fill(value)
    row.locator(f"form.{form} button").click()
    page.wait_for_selector("#admin-message")


def test_the_admin_disables_resets_changes_roles_and_ends_sessions(day_site: Site, browser) -> None:
    root = _login(browser, day_site, "root")
    bea = _login(browser, day_site, "bea")
    assert bea.url.endswith("/queue")
    # disabled: refused at once, on her very next request, and she cannot log in again
    admin_action(root, day_site, "bea", "status-form")
    assert "bea is disabled" in root.locator("#admin-message").inner_text()
    assert root.locator("#users tr[data-user='bea'] .account-state").inner_text() == "disabled"
    assert bea.context.request.get(f"{day_site.url}/api/queue").status == 401
    bea.goto(f"{day_site.url}/queue")
    assert "/login" in bea.url
    refused = _login(browser, day_site, "bea").content()  # her right password: she is told why
    assert "this account is disabled" in refused and "wrong user name or password" not in refused
    admin_action(root, day_site, "bea", "status-form")  # enabled again
    assert _login(browser, day_site, "bea").url.endswith("/queue")
    # a new password: the old one no longer opens, her sessions end
    bea = _login(browser, day_site, "bea")
    admin_action(root, day_site, "bea", "password-form", password="a new long password")
    assert "password is changed" in root.locator("#admin-message").inner_text()
    bea.goto(f"{day_site.url}/queue")
    assert "/login" in bea.url
    assert "wrong user name or password" in _login(browser, day_site, "bea").content()
    fresh = browser.new_context(bypass_csp=True).new_page()
    fresh.goto(f"{day_site.url}/login")
    fresh.fill("#username", "bea")
    fresh.fill("#password", "a new long password")
    fresh.click("#login-button")
    fresh.wait_for_url("**/queue")
    # a role changes from the user's next request
    assert fresh.goto(f"{day_site.url}/admin").status == 403
    admin_action(root, day_site, "bea", "role-form", role="admin")
    assert "bea is now Administrator" in root.locator("#admin-message").inner_text()
    assert fresh.goto(f"{day_site.url}/admin").status == 200
    # ending a user's sessions logs her out everywhere
    anne = _login(browser, day_site, "anne")
    root.reload()
    assert int(root.locator("#users tr[data-user='anne'] .sessions").inner_text()) >= 1
    admin_action(root, day_site, "anne", "sessions-form")
    assert "session(s) of anne ended" in root.locator("#admin-message").inner_text()
    anne.goto(f"{day_site.url}/queue")
    assert "/login" in anne.url
    # the admin cannot lock himself out
    admin_action(root, day_site, "root", "status-form")
    assert "cannot disable your own account" in root.locator("#admin-message").inner_text()
    assert Accounts(day_site.store).user("root").disabled is False
    assert root.goto(f"{day_site.url}/admin").status == 200


def test_the_admin_browses_the_patient_index(day_site: Site, browser) -> None:
    rows = "".join(f"{200000 + n},Martin{n:03d},Louis,1980-01-01\n" for n in range(120))
    day_site.store.patients.import_patients(parse_patient_csv("id,family_name,given_names,birth_date\n" + rows)[0])
    root = _login(browser, day_site, "root")
    root.goto(f"{day_site.url}/admin")
    root.click("#browse-patients")
    root.wait_for_url("**/admin/patients")
    assert root.locator("#patient-count").inner_text() == "1 to 50 of 122"
    assert root.locator("#patients tbody tr").count() == 50
    root.click("#next-page")
    root.wait_for_url("**page=2**")
    assert root.locator("#patient-count").inner_text() == "51 to 100 of 122"
    root.click("#previous-page")
    root.wait_for_url("**page=1**")
    for query, expected in [("Jean DUPONT", ["100001"]), ("marie durand", ["100003"]), ("100003", ["100003"])]:
        root.fill("#patient-query", query)
        root.click("#patient-search button")
        root.wait_for_load_state("networkidle")
        assert [r.get_attribute("data-patient") for r in root.locator("#patients tbody tr").all()] == expected, query
    assert "1962-04-03" in root.locator("#patients").inner_text()


def test_a_term_added_by_the_admin_is_used_by_the_next_dictation_without_a_restart(day_site: Site, browser) -> None:
    text = "Traitement par zorvalimab 10 mg par jour."
    before = dictate_words(day_site, "fr-cardio-03", text)
    assert day_site.store.jobs.get(before).flag_count >= 1  # an unknown medicine: a point to check
    watch = VocabularyWatch(day_site.settings)  # what the worker asks before each job
    root = _login(browser, day_site, "root")
    root.goto(f"{day_site.url}/admin")
    version = root.locator("#vocabulary-version").inner_text()
    root.fill("form[action='/admin/vocabulary'] input[name=term]", "Zorvalimab")
    root.select_option("form[action='/admin/vocabulary'] select[name=kind]", "drug")
    root.select_option("form[action='/admin/vocabulary'] select[name=language]", "fr")
    root.click("form[action='/admin/vocabulary'] button")
    root.wait_for_selector("#admin-message")
    assert "Zorvalimab" in root.locator("#admin-message").inner_text()
    assert root.locator("#vocabulary-version").inner_text() != version  # the app uses it at once
    assert watch.changed() and not watch.changed()
    day_site.text_layer = load_text_layer(day_site.settings, warm=False)  # the worker's reload on a change
    after = dictate_words(day_site, "fr-cardio-02", text)
    assert day_site.store.jobs.get(after).flag_count < day_site.store.jobs.get(before).flag_count
    anne = _login(browser, day_site, "anne")
    anne.goto(f"{day_site.url}/queue")
    shown_jobs(anne)
    assert int(row_of(anne, after).locator("td.flags").inner_text()) < int(
        row_of(anne, before).locator("td.flags").inner_text())


# --- statistics --------------------------------------------------------------------------------------
def test_stats_show_the_backlog_and_the_turnaround(day_site: Site, browser) -> None:
    waiting = dictate_words(day_site, "fr-mg-003", "Note brève.")
    filed = dictate_words(day_site, "fr-mg-004", "Consultation sans particularité.", sidecar={"patient": {"id": "100001"}})
    validate_report(day_site.settings, day_site.store, filed, validator="anne", patient_id="100001", flags_checked=True)
    assert file_waiting_reports(day_site.settings, day_site.store, day_site.text_layer.vocabulary) == [filed]
    assert day_site.store.jobs.get(waiting).state is JobState.DRAFTED
    root = _login(browser, day_site, "root")
    root.goto(f"{day_site.url}/stats")
    drafted = root.locator("#backlog tr[data-state='drafted']")
    assert drafted.locator("td.total").inner_text() == "1" and drafted.locator("td[data-band='hour']").inner_text() == "1"
    assert root.locator("#backlog tr[data-state='validated'] td.total").inner_text() == "0"
    for span in ("received-validated", "validated-filed", "received-filed"):
        row = root.locator(f"#turnaround tr[data-span='{span}']")
        assert row.locator("td.reports").inner_text() == "1", span
        assert row.locator("td.median").inner_text().endswith("min"), span
    root.select_option("#group-by", "worktype")  # applies at once
    root.wait_for_url("**by=worktype**")
    assert root.locator("#stats tr[data-group='all']").count() == 1


# --- the interface language --------------------------------------------------------------------------
@with_settings({"review.language": "fr", "review.doctor_signs": True})
def test_the_french_interface_has_no_english_words_on_these_screens(day_site: Site, browser) -> None:
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    job_id = dictate_words(day_site, "fr-courrier-02", "Cher confrère, merci de revoir ce patient.",
                           sidecar={"patient": {"id": "100001"}, "worktype": "letter", "due_date": yesterday})
    day_site.store.jobs.return_to_author(job_id, "Merci de préciser la posologie.", "anne")
    day_site.store.signoffs.add_comment(job_id, "martin", "Un comprimé le matin.")
    login = browser.new_context(bypass_csp=True).new_page()
    login.goto(f"{day_site.url}/login")
    assert english_words_in(login) == []
    login.fill("#username", "anne")
    login.fill("#password", "not the password")
    login.click("#login-button")
    assert "Identifiant ou mot de passe incorrect" in login.content() and english_words_in(login) == []
    anne = _login(browser, day_site, "anne")
    for path in ("/queue", "/queue?status=returned", "/queue?mine=1&status=all"):
        anne.goto(f"{day_site.url}{path}")
        shown_jobs(anne)
        assert english_words_in(anne) == [], path
        if "returned" in path:
            row_of(anne, job_id).locator("details.thread summary").click()
            assert "en retard" in row_of(anne, job_id).inner_text() and "Un comprimé" in anne.content()
            assert english_words_in(anne) == [], path
    assert anne.goto(f"{day_site.url}/admin").status == 403
    assert "Accès refusé pour votre rôle" in anne.content() and english_words_in(anne) == []
    assert anne.goto(f"{day_site.url}/nowhere").status == 404 and english_words_in(anne) == []
    martin = _login(browser, day_site, "martin")
    for path in ("/mine", f"/mine/{job_id}", "/stats"):
        martin.goto(f"{day_site.url}{path}")
        assert english_words_in(martin) == [], path
    root = _login(browser, day_site, "root")
    for path in ("/admin", "/admin/patients", "/admin/patients?q=jean+dupont", "/stats", "/stats?by=worktype",
                 "/admin/proposals", "/admin?message=done.user-added&username=claire&role=secretary"):
        root.goto(f"{day_site.url}{path}")
        assert english_words_in(root) == [], path
    root.goto(f"{day_site.url}/admin")
    root.fill("form[action='/admin/users'] input[name=username]", "claire")
    root.fill("form[action='/admin/users'] input[name=password]", "short")
    root.evaluate("document.querySelector(\"form[action='/admin/users'] input[name=password]\").removeAttribute('minlength')")
    root.click("form[action='/admin/users'] button")
    root.wait_for_selector("#admin-message")
    assert "Un mot de passe a au moins 10 caractères" in root.locator("#admin-message").inner_text()
    assert english_words_in(root) == []
    root.click("button[name=language][value=en]")  # the check itself finds English where there is English
    root.wait_for_load_state("networkidle")
    assert {"Users", "Disable", "Role"} <= set(english_words_in(root))
    if SCREENSHOTS:
        for who, path in ((anne, "/queue"), (martin, f"/mine/{job_id}"), (root, "/stats")):
            who.goto(f"{day_site.url}{path}")
            who.screenshot(path=str(ARTIFACTS / f"fr{path.replace('/', '-')}.png"), full_page=True)
