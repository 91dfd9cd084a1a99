"""The review web app in a real browser: Debian's Chromium driven by Playwright, against a real server.

The dictations are real (the bundled model transcribes them); the store is real SQLite.
Nothing is mocked. A screenshot of the review screen is kept in test-artifacts/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from transcribe.audit import AuditTrail
from transcribe.records import JobState

from .web_site import ARTIFACTS, CHROMIUM, PASSWORD, Site, _get, _login, _open_review

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")


def test_pages_and_api_refuse_anonymous_requests_and_wrong_roles(app_site: Site, browser) -> None:
    for path in ("/", "/queue", "/review/1", "/mine", "/admin"):
        status, location = _get(app_site, path)
        assert status == 303 and location.startswith("/login")
    for path in ("/api/queue", "/api/review/1", "/audio/1", "/api/patients?q=du"):
        assert _get(app_site, path)[0] == 401
    doctor = _login(browser, app_site, "martin")
    assert doctor.url.endswith("/mine")
    response = doctor.goto(f"{app_site.url}/queue")
    assert response.status == 403
    assert doctor.goto(f"{app_site.url}/admin").status == 403
    secretary = _login(browser, app_site, "anne")
    assert secretary.goto(f"{app_site.url}/admin").status == 403


def test_login_refuses_bad_passwords_throttles_and_never_redirects_elsewhere(app_site: Site, browser) -> None:
    page = browser.new_context().new_page()
    page.goto(f"{app_site.url}/login?next=https://evil.example/")
    page.fill("#username", "anne")
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(app_site.url)  # no open redirect after login
    other = browser.new_context().new_page()
    for _ in range(5):
        other.goto(f"{app_site.url}/login")
        other.fill("#username", "bea")
        other.fill("#password", "wrong password!!")
        other.click("#login-button")
    other.goto(f"{app_site.url}/login")
    other.fill("#username", "bea")
    other.fill("#password", PASSWORD)
    other.click("#login-button")
    assert "too many failed attempts" in other.content()


def test_the_secretary_reviews_reverts_resolves_and_files(app_site: Site, browser) -> None:
    job_id = app_site.dictate("fr-dose-01", {"patient": {"id": "100001"}})
    page = _login(browser, app_site, "anne")
    assert page.url.endswith("/queue")
    page.wait_for_selector(f"#queue tr[data-job='{job_id}']")
    # the queue refreshes on its own when a new draft arrives
    second = app_site.dictate("fr-mg-001", {"patient": {"id": "100003"}, "priority": "urgent"})
    page.wait_for_selector(f"#queue tr[data-job='{second}'].urgent", timeout=15000)
    first_row = page.locator("#queue tbody tr").first
    assert first_row.get_attribute("data-job") == str(second)  # urgent first

    _open_review(page, app_site, job_id)
    # click a word: the audio plays from just before it
    word = page.locator("#words span[data-start]").nth(3)
    start = float(word.get_attribute("data-start"))
    word.click()
    page.wait_for_function("document.getElementById('player').currentTime > 0")
    assert abs(page.evaluate("document.getElementById('player').currentTime") - max(0, start - 0.3)) < 1.0
    page.wait_for_selector("#words span.playing", timeout=10000)  # the word being played is highlighted
    page.keyboard.press(app_site.settings.review.key_play_pause)  # the foot pedal's key pauses
    page.wait_for_function("document.getElementById('player').paused")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-screen.png"), full_page=True)

    # revert an automatic edit: the heard words come back in the text
    edit = page.locator("#words span.edit").filter(has_text="hydroxyzine").first
    heard = json.loads(app_site.store.results_of(job_id)["edits"].read_text())
    edit.click()
    page.click("#revert-edit")
    page.wait_for_selector("#words span.reverted")
    reverted = [e for e in heard["edits"] if e["after"] == "hydroxyzine"][0]["before"]
    assert reverted in page.locator("#blocks textarea").first.input_value()
    # put it back, then edit the text by hand: the work is saved as she goes
    page.locator("#words span.reverted").first.click()
    page.click("#revert-edit")
    page.wait_for_function("document.querySelectorAll('#words span.reverted').length === 0")
    area = page.locator("#blocks textarea").first
    area.fill(area.input_value() + " Contrôle dans un mois.")
    page.wait_for_function("document.getElementById('saved').textContent.length > 2")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert "Contrôle dans un mois." in page.locator("#blocks textarea").first.input_value()  # nothing lost

    # validation is refused while a flag is unresolved
    flags = page.locator("#flags input[type=checkbox]")
    if flags.count():
        page.click("#validate")
        page.wait_for_function("document.getElementById('message').textContent.includes('resolve')")
        for index in range(flags.count()):
            item = page.locator("#flags li").nth(index)
            if item.locator("button.reading").count():
                item.locator("button.reading").first.click()  # a doubtful dose: choose a reading
            else:
                flags.nth(index).check()
            page.wait_for_timeout(300)
    page.click("#validate")
    page.wait_for_function("document.getElementById('message').textContent.includes('100001_DUPONT')", timeout=30000)
    filed = list((app_site.settings.paths.outbox / "100001_DUPONT").glob(f"*_{job_id}.docx"))
    assert filed, "the DOCX landed in the patient folder"
    from docx import Document

    assert "Contrôle dans un mois." in "\n".join(p.text for p in Document(str(filed[0])).paragraphs)
    assert app_site.store.get(job_id).state is JobState.FILED
    actions = [e["action"] for e in AuditTrail(app_site.store).entries(job_id=job_id)]
    assert {"opened", "edit-reverted", "changed", "validated", "filed"} <= set(actions)
    assert AuditTrail(app_site.store).verify().intact


def test_identity_must_be_confirmed_and_the_patient_can_be_searched(app_site: Site, browser) -> None:
    job_id = app_site.dictate("fr-mg-001", {"patient": {"family_name": "Dupont", "given_names": "Jean",
                                                        "birth_date": "1950-03-12"}})
    page = _login(browser, app_site, "anne")
    _open_review(page, app_site, job_id)
    page.fill("#patient-query", "durand")
    page.wait_for_selector("#patient-results button[data-patient='100003']")
    page.click("#patient-results button[data-patient='100003']")
    page.wait_for_selector("#identity-conflict")
    for index in range(page.locator("#flags input[type=checkbox]").count()):
        page.locator("#flags input[type=checkbox]").nth(index).check()
        page.wait_for_timeout(300)
    page.click("#validate")
    page.wait_for_function("document.getElementById('message').textContent.includes('tick the box')")
    assert "--confirm-identity" not in page.locator("#message").text_content()  # the box, not a command-line flag
    assert app_site.store.get(job_id).state is JobState.DRAFTED
    page.check("#confirm-identity")
    page.wait_for_timeout(500)
    page.click("#validate")
    page.wait_for_function("document.getElementById('message').textContent.includes('100003_DURAND')", timeout=30000)


def test_return_to_author_and_the_doctor_sees_it(app_site: Site, browser) -> None:
    job_id = app_site.dictate("fr-mg-001")
    page = _login(browser, app_site, "anne")
    _open_review(page, app_site, job_id)
    page.fill("#return-comment", "Dose inaudible à 0:04, merci de redicter.")
    page.click("#return")
    page.wait_for_url("**/queue")
    assert app_site.store.get(job_id).state is JobState.RETURNED
    doctor = _login(browser, app_site, "martin")
    doctor.wait_for_selector(f".returned li[data-job='{job_id}']")
    assert "redicter" in doctor.locator(".returned").inner_text()
    doctor.click(f".returned li[data-job='{job_id}'] button")
    doctor.wait_for_load_state("networkidle")
    assert app_site.store.get(job_id).state is JobState.DRAFTED


def test_a_report_being_edited_is_locked_to_its_secretary(app_site: Site, browser) -> None:
    job_id = app_site.dictate("fr-mg-001")
    anne = _login(browser, app_site, "anne")
    _open_review(anne, app_site, job_id)
    bea = _login(browser, app_site, "bea")
    bea.goto(f"{app_site.url}/queue")
    bea.wait_for_selector(f"#queue tr[data-job='{job_id}'] .lock")
    assert "anne" in bea.locator(f"#queue tr[data-job='{job_id}'] .lock").inner_text()
    _open_review(bea, app_site, job_id)
    assert "anne" in bea.locator("#lock-message").inner_text()
    assert bea.locator("#validate").is_disabled() and bea.locator("#blocks textarea").first.is_disabled()


def test_state_changes_without_the_csrf_token_are_refused(app_site: Site, browser) -> None:
    job_id = app_site.dictate("fr-mg-001")
    page = _login(browser, app_site, "anne")
    _open_review(page, app_site, job_id)
    request = page.context.request  # carries the session cookie, not the page's token
    refused = request.post(f"{app_site.url}/api/review/{job_id}/save", data=json.dumps({"blocks": []}),
                           headers={"Content-Type": "application/json"})
    assert refused.status == 403
    forged = request.post(f"{app_site.url}/api/review/{job_id}/validate", data="{}",
                          headers={"Content-Type": "application/json", "X-CSRF-Token": "forged"})
    assert forged.status == 403
    assert app_site.store.get(job_id).state is JobState.DRAFTED
    token = page.locator("meta[name='csrf-token']").get_attribute("content")
    accepted = request.post(f"{app_site.url}/api/review/{job_id}/save", data="{}",
                            headers={"Content-Type": "application/json", "X-CSRF-Token": token})
    assert accepted.status == 200


def test_the_admin_adds_users_and_imports_patients_and_the_interface_speaks_french(app_site: Site, browser, tmp_path: Path) -> None:
    page = _login(browser, app_site, "root")
    page.goto(f"{app_site.url}/admin")
    page.fill("form[action='/admin/users'] input[name=username]", "claire")
    page.fill("form[action='/admin/users'] input[name=password]", PASSWORD)
    page.select_option("form[action='/admin/users'] select[name=role]", "secretary")
    page.click("form[action='/admin/users'] button")
    page.wait_for_selector("text=ok: claire")
    csv = tmp_path / "index.csv"
    csv.write_text("id;nom;prénom;ddn\n300001;Petit;Lou;01/02/2003\n")
    page.set_input_files("form[action='/admin/patients'] input[type=file]", str(csv))
    page.click("form[action='/admin/patients'] button")
    page.wait_for_selector("text=1 added")
    assert app_site.store.patient("300001") is not None
    page.click("button[name=language][value=fr]")
    page.wait_for_load_state("networkidle")
    assert "Déconnexion" in page.content()


def test_a_doubtful_dose_is_chosen_not_ticked_and_undo_keeps_to_its_place(app_site: Site, browser) -> None:
    """Two cases seen: a doubtful "5,000 g" ticked and filed as is; an undo after typing that
    changed "Kardégic 75 mg" into "Kardégic 7cinq mg"."""
    job_id = app_site.dictate_text("Kardégic 75 mg le matin. Bisoprolol cinq mg. Paracétamol 5,000 grammes si douleur.",
                                   sidecar={"patient": {"id": "100001"}})
    page = _login(browser, app_site, "anne")
    _open_review(page, app_site, job_id)
    area = page.locator("#blocks textarea").first
    # she types at the end, then undoes the automatic "cinq -> 5": only that 5 changes back
    area.fill(area.input_value() + " Revoir dans 3 mois.")
    edit = page.locator("#words span.edit").filter(has_text="5").first
    edit.click()
    page.click("#revert-edit")
    page.wait_for_selector("#words span.reverted")
    text = area.input_value()
    assert "Kardégic 75 mg" in text and "Bisoprolol cinq mg" in text and "Revoir dans 3 mois." in text
    # the doubtful dose cannot be ticked away
    item = page.locator("#flags li").filter(has=page.locator("button.reading"))
    item.locator("input[type=checkbox]").check()
    page.wait_for_function("document.getElementById('message').textContent.includes('readings')")
    assert not item.locator("input[type=checkbox]").is_checked()
    # one click writes the reading in its place and ticks the flag
    item.locator("button.reading", has_text="5000 g").click()
    page.wait_for_function("document.querySelector('#blocks textarea').value.includes('Paracétamol 5000 g')")
    for box in page.locator("#flags input[type=checkbox]").all():
        if not box.is_checked():
            box.check()
            page.wait_for_timeout(300)
    page.click("#validate")
    page.wait_for_function("document.getElementById('message').textContent.includes('100001_DUPONT')", timeout=30000)
    from docx import Document

    filed = next((app_site.settings.paths.outbox / "100001_DUPONT").glob(f"*_{job_id}.docx"))
    body = "\n".join(p.text for p in Document(str(filed)).paragraphs)
    assert "Paracétamol 5000 g" in body and "5,000" not in body and "Kardégic 75 mg" in body
