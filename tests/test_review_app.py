"""The review web app in a real browser: Debian's Chromium driven by Playwright, against a real server.

The dictations are real (the bundled model transcribes them); the store is real SQLite.
Nothing is mocked. A screenshot of the review screen is kept in test-artifacts/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from transcribe.records import JobState
from transcribe.security.audit import AuditTrail
from transcribe.work.review_state import Workspace

from .conftest import wait_for
from .web_site import (
    ARTIFACTS,
    CHROMIUM,
    PASSWORD,
    REPORT_TEXT,
    Site,
    _get,
    _login,
    _open_review,
    _report_text,
    _type_at_end,
    _validate,
)

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
    # this one decoded by the engine now, as the service does (the others start from the engine's recorded words)
    second = app_site.dictate("fr-mg-001", {"patient": {"id": "100003"}, "priority": "urgent"}, live=True)
    page.wait_for_selector(f"#queue tr[data-job='{second}'].urgent", timeout=15000)
    first_row = page.locator("#queue tbody tr").first
    assert first_row.get_attribute("data-job") == str(second)  # urgent first

    _open_review(page, app_site, job_id)
    # click a word: the audio plays from just before it
    word = page.locator("#report span[data-start]").nth(3)
    start = float(word.get_attribute("data-start"))
    word.click()
    page.wait_for_function("document.getElementById('player').currentTime > 0")
    assert abs(page.evaluate("document.getElementById('player').currentTime") - max(0, start - 0.3)) < 1.0
    page.wait_for_selector("#report span.playing", timeout=10000)  # the word being played is highlighted
    page.keyboard.press(app_site.settings.review.key_play_pause)  # the foot pedal's key pauses
    page.wait_for_function("document.getElementById('player').paused")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-screen.png"), full_page=True)

    # revert an automatic edit: the heard words come back in its place, and only there
    layer = json.loads(app_site.store.jobs.results_of(job_id)["edits"].read_text())
    edit = page.locator("#report span.edit").first
    index = int(edit.get_attribute("data-edit"))
    before, after = layer["edits"][index]["before"], layer["edits"][index]["after"]
    original = _report_text(page)
    edit.click()
    page.click("#revert-edit")
    page.wait_for_selector("#report span.reverted")
    text = _report_text(page)
    assert text != original and len(text) == len(original) - len(after) + len(before)
    # put it back, then edit the text by hand: the work is saved as she goes
    page.locator("#report span.reverted").first.click()
    page.click("#revert-edit")
    page.wait_for_function("document.querySelectorAll('#report span.reverted').length === 0")
    assert _report_text(page) == original
    _type_at_end(page, " Contrôle dans un mois.")
    page.wait_for_function("document.getElementById('saved').textContent.startsWith('Saved')")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert "Contrôle dans un mois." in _report_text(page)  # nothing lost

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
    _validate(page)
    page.wait_for_function("document.getElementById('message').textContent.includes('100001_DUPONT')", timeout=30000)
    filed = list((app_site.settings.paths.outbox / "100001_DUPONT").glob(f"*_{job_id}.docx"))
    assert filed, "the DOCX landed in the patient folder"
    from docx import Document

    assert "Contrôle dans un mois." in "\n".join(p.text for p in Document(str(filed[0])).paragraphs)
    assert app_site.store.jobs.get(job_id).state is JobState.FILED
    actions = [e.action for e in AuditTrail.of_site(app_site.store, app_site.settings).entries(job_id=job_id)]
    assert {"opened", "edit-reverted", "changed", "validated", "filed"} <= set(actions)
    assert AuditTrail.of_site(app_site.store, app_site.settings).verify().intact


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
    page.click("#validate")  # said before the confirmation dialog: the box to tick first
    page.wait_for_function("document.getElementById('message').textContent.includes('tick the box')")
    assert "--confirm-identity" not in page.locator("#message").text_content()  # the box, not a command-line flag
    assert page.evaluate("document.activeElement.id") == "confirm-identity"
    assert app_site.store.jobs.get(job_id).state is JobState.DRAFTED
    page.check("#confirm-identity")
    page.wait_for_timeout(500)
    _validate(page)
    page.wait_for_function("document.getElementById('message').textContent.includes('100003_DURAND')", timeout=30000)


def test_return_to_author_and_the_doctor_sees_it(app_site: Site, browser) -> None:
    job_id = app_site.dictate("fr-mg-001")
    page = _login(browser, app_site, "anne")
    _open_review(page, app_site, job_id)
    page.fill("#return-comment", "Dose inaudible à 0:04, merci de redicter.")
    page.click("#return")
    page.wait_for_url("**/queue")
    assert app_site.store.jobs.get(job_id).state is JobState.RETURNED
    doctor = _login(browser, app_site, "martin")
    doctor.wait_for_selector(f".returned li[data-job='{job_id}']")
    assert "redicter" in doctor.locator(".returned").inner_text()
    doctor.click(f".returned li[data-job='{job_id}'] button")
    doctor.wait_for_load_state("networkidle")
    assert app_site.store.jobs.get(job_id).state is JobState.DRAFTED


def test_opening_does_not_lock_her_change_does_and_leaving_gives_it_back(app_site: Site, browser) -> None:
    job_id = app_site.dictate("fr-mg-001")
    anne = _login(browser, app_site, "anne")
    _open_review(anne, app_site, job_id)
    assert Workspace(app_site.store).holder(job_id) is None  # opening (reading, listening) takes no lock
    _type_at_end(anne, " Revu.")
    wait_for(lambda: Workspace(app_site.store).holder(job_id) == "anne", timeout_s=10)
    anne.goto(f"{app_site.url}/queue")  # she leaves: the page gives the lock back
    wait_for(lambda: Workspace(app_site.store).holder(job_id) is None, timeout_s=10)
    assert "Revu." in Workspace(app_site.store).load(job_id).blocks[0].text


def test_two_secretaries_on_one_report_and_a_take_over_with_a_reason(app_site: Site, browser) -> None:
    job_id = app_site.dictate("fr-mg-001")
    anne = _login(browser, app_site, "anne")
    _open_review(anne, app_site, job_id)
    bea = _login(browser, app_site, "bea")
    _open_review(bea, app_site, job_id)
    assert bea.locator("#lock-bar").is_hidden()  # nobody holds it while anne only reads
    _type_at_end(anne, " Vu par Anne.")
    # bea's screen learns who holds it (it asks now and then) and becomes read only
    bea.wait_for_selector("#lock-bar:not([hidden])", timeout=20000)
    assert "anne" in bea.locator("#lock-message").inner_text()
    assert bea.locator("#validate").is_disabled()
    assert bea.locator("#block-0").get_attribute("contenteditable") == "false"
    bea.goto(f"{app_site.url}/queue")
    bea.wait_for_selector(f"#queue tr[data-job='{job_id}'] .lock")
    assert "anne" in bea.locator(f"#queue tr[data-job='{job_id}'] .lock").inner_text()
    # anne left her desk: bea takes it over, saying why
    _open_review(bea, app_site, job_id)
    bea.wait_for_selector("#lock-bar:not([hidden])")
    bea.click("#takeover")
    bea.wait_for_function("document.getElementById('message').textContent.includes('reason')")
    bea.fill("#takeover-reason", "Anne est en congé, le Dr Martin attend le courrier")
    bea.press("#takeover-reason", "Enter")
    bea.wait_for_selector("#lock-bar", state="hidden")
    assert Workspace(app_site.store).holder(job_id) == "bea"
    assert "Vu par Anne." in _report_text(bea)  # she carries on from anne's saved work
    _type_at_end(bea, " Repris par Béa.")
    bea.wait_for_function("document.getElementById('saved').textContent.startsWith('Saved')")
    entries = AuditTrail.of_site(app_site.store, app_site.settings).entries(job_id=job_id)
    taken = [e for e in entries if e.action == "lock-taken-over"]
    assert taken and taken[0].username == "bea" and "from anne" in (taken[0].detail or "")
    assert "congé" in (taken[0].detail or "")
    # anne's next change is refused and her screen says who has it now
    _type_at_end(anne, " Encore.")
    anne.wait_for_selector("#lock-bar:not([hidden])", timeout=20000)
    assert "bea" in anne.locator("#lock-message").inner_text()
    assert "Encore." not in Workspace(app_site.store).load(job_id).blocks[0].text
    assert "Repris par Béa." in Workspace(app_site.store).load(job_id).blocks[0].text
    # once bea has left, a change made on a copy older than her work is refused, not written over it
    bea.goto(f"{app_site.url}/queue")
    wait_for(lambda: Workspace(app_site.store).holder(job_id) is None, timeout_s=10)
    token = anne.locator("meta[name='csrf-token']").get_attribute("content")
    stale = anne.context.request.post(
        f"{app_site.url}/api/review/{job_id}/save",
        data=json.dumps({"blocks": [{"key": "body", "heading": "", "text": "Vieux texte"}], "base": 1.0}),
        headers={"Content-Type": "application/json", "X-CSRF-Token": token})
    assert stale.status == 409 and "not saved" in stale.json()["error"]
    assert "Repris par Béa." in Workspace(app_site.store).load(job_id).blocks[0].text
    assert [d.username for d in Workspace(app_site.store).refused(job_id) if "Vieux texte" in d.text] == ["anne"]


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
    assert app_site.store.jobs.get(job_id).state is JobState.DRAFTED
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
    assert app_site.store.patients.patient("300001") is not None
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
    # she types at the end, then undoes the automatic "cinq -> 5": only that 5 changes back
    _type_at_end(page, " Revoir dans 3 mois.")
    edit = page.locator("#report span.edit").filter(has_text="5").first
    edit.click()
    page.click("#revert-edit")
    page.wait_for_selector("#report span.reverted")
    text = _report_text(page)
    assert "Kardégic 75 mg" in text and "Bisoprolol cinq mg" in text and "Revoir dans 3 mois." in text
    # the doubtful dose cannot be ticked away
    # (a click, not check(): the box is unticked again when the server refuses, which may come
    # before check() looks at it — the refusal is what is tested)
    item = page.locator("#flags li").filter(has=page.locator("button.reading"))
    item.locator("input[type=checkbox]").click()
    page.wait_for_function("document.getElementById('message').textContent.includes('readings')")
    page.wait_for_function("!document.querySelector('#flags li button.reading').closest('li').querySelector('input').checked")
    # one click writes the reading in its place and ticks the flag
    item.locator("button.reading", has_text="5000 g").click()
    page.wait_for_function(f"({REPORT_TEXT}).includes('Paracétamol 5000 g')")
    for box in page.locator("#flags input[type=checkbox]").all():
        if not box.is_checked():
            box.check()
            page.wait_for_timeout(300)
    _validate(page)
    page.wait_for_function("document.getElementById('message').textContent.includes('100001_DUPONT')", timeout=30000)
    from docx import Document

    filed = next((app_site.settings.paths.outbox / "100001_DUPONT").glob(f"*_{job_id}.docx"))
    body = "\n".join(p.text for p in Document(str(filed)).paragraphs)
    assert "Paracétamol 5000 g" in body and "5,000" not in body and "Kardégic 75 mg" in body


def test_text_typed_just_before_leaving_or_reloading_is_kept(app_site: Site, browser) -> None:
    """Seen: the last words typed before leaving were lost (the autosave waits 0.7 s)."""
    job_id = app_site.dictate("fr-mg-001")
    page = _login(browser, app_site, "anne")
    _open_review(page, app_site, job_id)
    _type_at_end(page, " Dernier mot tapé")
    page.goto(f"{app_site.url}/queue")  # at once, before the autosave
    _open_review(page, app_site, job_id)
    assert "Dernier mot tapé" in _report_text(page)
    _type_at_end(page, " et encore un")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert "Dernier mot tapé et encore un" in _report_text(page)


def test_foot_pedal_keys_rewind_on_resume_and_speeds(app_site: Site, browser) -> None:
    job_id = app_site.dictate("fr-cardio-01")
    page = _login(browser, app_site, "anne")
    _open_review(page, app_site, job_id)
    keys = app_site.settings.review
    now = "document.getElementById('player').currentTime"
    page.keyboard.press(keys.key_play_pause)  # F9: play
    page.wait_for_function(f"{now} > 3", timeout=20000)
    page.keyboard.press(keys.key_play_pause)  # F9: pause
    page.wait_for_function("document.getElementById('player').paused")
    stopped = page.evaluate(now)
    page.keyboard.press(keys.key_play_pause)  # resume: 1.5 s back, to hear again the words she stopped on
    resumed = page.evaluate(now)
    assert stopped - 1.6 <= resumed <= stopped - 1.0, (stopped, resumed)
    page.wait_for_function(f"{now} > {stopped + 0.5}")
    page.keyboard.press(keys.key_play_pause)
    page.wait_for_function("document.getElementById('player').paused")
    here = page.evaluate(now)
    page.keyboard.press(keys.key_rewind)  # F7
    assert abs(page.evaluate(now) - max(0.0, here - keys.rewind_s)) < 0.05
    page.keyboard.press(keys.key_forward)  # F8
    assert abs(page.evaluate(now) - here) < 0.05
    speeds = page.locator("#speed option").all_inner_texts()
    assert speeds[0] == "0.5" and speeds[-1] == "2"
    page.select_option("#speed", "0.5")
    assert page.evaluate("document.getElementById('player').playbackRate") == 0.5


def test_in_french_a_flag_jumps_to_its_place_and_time_and_a_suggestion_applies_in_one_click(
    app_site: Site, browser
) -> None:
    job_id = app_site.dictate_text("Patient vu ce jour pour des fures aux genoux. Pas d'autre plainte.",
                                   sidecar={"patient": {"id": "100001"}})
    page = _login(browser, app_site, "anne")
    _open_review(page, app_site, job_id)
    page.click("button[name=language][value=fr]")  # the language changes, the screen stays
    page.wait_for_selector("body[data-ready='1']")
    assert page.url.endswith(f"/review/{job_id}")
    assert "Déconnexion" in page.content() and "Points à vérifier" in page.content()
    flags = page.locator("#flags li")
    reasons = " ".join(flags.all_inner_texts())
    assert "n'est pas un mot connu" in reasons and "is not a known word" not in reasons  # in French
    assert "To check" not in reasons and "À vérifier" in reasons  # an unticked point does not read "checked"
    item = flags.filter(has_text="fures").first
    index = int(item.get_attribute("data-flag"))
    flag = page.context.request.get(f"{app_site.url}/api/review/{job_id}").json()["flags"][index]
    # clicking its text jumps to its place in the text and in the audio, and does not tick it
    item.locator(".flag-text").click()
    page.wait_for_function("!document.getElementById('player').paused")
    assert abs(page.evaluate("document.getElementById('player').currentTime") - (flag["time"] - 0.3)) < 0.5
    assert page.evaluate("window.getSelection().toString()") == "fures"
    assert not item.locator("input[type=checkbox]").is_checked()
    # its suggestion, in one click: written in its place, and the point is ticked
    item.locator("button.suggestion").click()
    page.wait_for_function(f"({REPORT_TEXT}).includes('des fissures aux genoux')")
    item = page.locator(f"#flags li[data-flag='{index}']")
    assert item.locator("input[type=checkbox]").is_checked() and "Vérifié" in item.inner_text()
    assert "suggestion-applied" in [e.action for e in AuditTrail.of_site(app_site.store, app_site.settings).entries(job_id=job_id)]


def test_find_and_replace_in_the_report(app_site: Site, browser) -> None:
    job_id = app_site.dictate_text("Pas d'oedème des membres inférieurs. Oedème du visage absent. Pas d'oedème.")
    page = _login(browser, app_site, "anne")
    _open_review(page, app_site, job_id)
    page.keyboard.press("Control+h")
    page.keyboard.type("oedème")
    page.wait_for_function("document.getElementById('find-count').textContent === '1 / 3'")
    page.keyboard.press("Tab")
    page.keyboard.type("œdème")
    page.keyboard.press("Enter")  # replaces the one found, and finds the next
    page.wait_for_function(f"({REPORT_TEXT}).startsWith(\"Pas d'œdème des membres\")")
    assert _report_text(page).count("œdème") == 1
    page.click("#replace-all")
    page.wait_for_function("document.getElementById('find-count').textContent === '2 replaced'")
    text = _report_text(page)
    assert "oedème" not in text.lower() and text.count("œdème") == 3  # any case found; written as typed
    assert "œdème" in Workspace(app_site.store).load(job_id).blocks[0].text  # saved


def test_site_text_blocks_are_inserted_by_their_code(app_site: Site, browser) -> None:
    folder = app_site.settings.paths.templates
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "autotext.tsv").write_text(
        "# code<TAB>text\nrdv\tRevoir le patient dans trois mois avec un bilan biologique.\n"
        "cc\tCopie au médecin traitant.\\nAvec mes remerciements.\n", encoding="utf-8")
    job_id = app_site.dictate("fr-mg-001")
    page = _login(browser, app_site, "anne")
    _open_review(page, app_site, job_id)
    _type_at_end(page, " rdv")
    page.keyboard.press("F3")  # as in Word: the code, then F3
    page.wait_for_function(f"({REPORT_TEXT}).endsWith(' Revoir le patient dans trois mois avec un bilan biologique.')")
    page.keyboard.type(" xyz")
    page.keyboard.press("F3")
    page.wait_for_function("document.getElementById('message').textContent.includes('xyz')")
    page.select_option("#autotext", "cc")  # or chosen in the list: written where the caret was
    page.wait_for_function(f"({REPORT_TEXT}).endsWith('xyzCopie au médecin traitant.\\nAvec mes remerciements.')")
    page.wait_for_function("document.getElementById('saved').textContent.startsWith('Saved')")
    assert "Avec mes remerciements." in Workspace(app_site.store).load(job_id).blocks[0].text


def test_validating_without_a_patient_says_so_before_the_document_opens(app_site: Site, browser) -> None:
    """Found walking a secretary's day: with every point checked and no patient chosen, validating opened the
    document to confirm (an empty "Patient" line) and was only refused at its last button."""
    job_id = app_site.dictate("fr-mg-001")
    page = _login(browser, app_site, "anne")
    _open_review(page, app_site, job_id)
    for _ in range(10):  # each point in turn: a doubtful dose needs a reading chosen, the others a tick
        item = page.locator("#flags li.flag:not(.resolved)").first
        if not page.locator("#flags li.flag:not(.resolved)").count():
            break
        if item.locator("button.reading").count():
            item.locator("button.reading").first.click()
        else:
            item.locator("input[type=checkbox]").first.check()
        page.wait_for_timeout(500)
    assert not page.locator("#flags li.flag:not(.resolved)").count()
    page.locator("#block-0").focus()
    page.keyboard.press("Control+Enter")
    page.wait_for_function("document.getElementById('message').textContent.length > 0")
    assert "choose the patient" in page.locator("#message").inner_text().lower()
    assert page.locator("#document-dialog[open]").count() == 0
    assert page.evaluate("document.activeElement.id") == "patient-query"
    assert app_site.store.jobs.get(job_id).state is JobState.DRAFTED


def test_preview_download_and_a_confirmation_before_filing(app_site: Site, browser, tmp_path: Path) -> None:
    from docx import Document

    job_id = app_site.dictate("fr-mg-001", {"patient": {"id": "100001"}})
    page = _login(browser, app_site, "anne")
    _open_review(page, app_site, job_id)
    for box in page.locator("#flags input[type=checkbox]").all():
        box.check()
        page.wait_for_timeout(300)
    _type_at_end(page, " Bonne tolérance.")
    page.keyboard.press("Alt+p")  # the document as it will be filed, before filing it
    page.wait_for_selector("#document-dialog[open]")
    sheet = page.locator("#document-sheet").inner_text()
    assert "DUPONT Jean" in sheet and "Bonne tolérance." in sheet and "consultation" in sheet.lower()
    assert page.locator("#document-confirm").is_hidden()
    page.keyboard.press("Escape")
    page.wait_for_selector("#document-dialog:not([open])", state="attached")
    with page.expect_download() as download:
        page.click("#docx")
    saved = tmp_path / "draft.docx"
    download.value.save_as(saved)
    paragraphs = [p.text for p in Document(str(saved)).paragraphs]
    assert any("Bonne tolérance." in p for p in paragraphs) and any("BROUILLON" in p for p in paragraphs)
    # filing asks first: Escape says no, Enter says yes
    page.locator("#block-0").focus()
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#document-dialog[open] #document-confirm:focus")
    page.keyboard.press("Escape")
    page.wait_for_timeout(500)
    assert app_site.store.jobs.get(job_id).state is JobState.DRAFTED
    page.locator("#block-0").focus()
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#document-dialog[open] #document-confirm:focus")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('message').textContent.includes('100001_DUPONT')", timeout=30000)
    assert app_site.store.jobs.get(job_id).state is JobState.FILED


def test_a_filed_report_is_reopened_and_filed_again_as_a_new_version(app_site: Site, browser) -> None:
    from docx import Document

    job_id = app_site.dictate_text("Patient vu ce jour. Examen normal.", sidecar={"patient": {"id": "100001"}})
    page = _login(browser, app_site, "anne")
    _open_review(page, app_site, job_id)
    _validate(page)
    page.wait_for_url("**/queue", timeout=30000)
    assert app_site.store.jobs.get(job_id).state is JobState.FILED
    _open_review(page, app_site, job_id)
    assert page.locator("#block-0").get_attribute("contenteditable") == "false"  # filed: read only
    page.wait_for_selector("#reopen-bar:not([hidden])")
    page.click("#reopen")
    page.wait_for_selector("#block-0[contenteditable='plaintext-only']")
    _type_at_end(page, " Rectificatif : revoir dans un mois.")
    _validate(page)
    page.wait_for_function("document.getElementById('message').textContent.includes('_v2')", timeout=30000)
    folder = app_site.settings.paths.outbox / "100001_DUPONT"
    first, second = sorted(folder.glob(f"*_{job_id}.docx")), sorted(folder.glob(f"*_{job_id}_v2.docx"))
    assert first and second  # beside the first, never over it
    assert "Rectificatif" in "\n".join(p.text for p in Document(str(second[0])).paragraphs)
    assert "Rectificatif" not in "\n".join(p.text for p in Document(str(first[0])).paragraphs)
    assert app_site.store.jobs.get(job_id).report_version == 2
    actions = [e.action for e in AuditTrail.of_site(app_site.store, app_site.settings).entries(job_id=job_id)]
    assert "reopened" in actions and actions.count("filed") == 2
