"""The review screen through a secretary's day, in a real browser: in French throughout, the lock that
goes back when she stops, line breaks, the word played while she types, the next dictation, printing,
the same lengths on every page, the icon.

Debian's Chromium driven by Playwright against a real server on a real site; the engine's words are
given where a case needs exact words (``Site.dictate_text``), everything after the engine is real.
"""

from __future__ import annotations

import time

import pytest

from transcribe.records import JobState, format_duration
from transcribe.work import review_state
from transcribe.work.review_state import Workspace

from .conftest import wait_for
from .interface_words import english_words_in
from .web_site import ARTIFACTS, CHROMIUM, REPORT_TEXT, Site, _login, _open_review, _report_text, _type_at_end

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")

#: dictated words giving a point of each kind (an unknown word, a doubtful dose, a dose above the usual
#: maximum, a medicine heard wrong), automatic changes (commands, numbers, units) and line breaks
CONSULTATION = (
    "Patient vu ce jour pour des fures aux genoux point à la ligne Traitement deux points paracétamol 5,000 grammes "
    "si douleur virgule hydroxysine vingt-cinq milligrammes le soir point à la ligne Conclusion deux points revoir "
    "dans un mois point"
)


@pytest.fixture
def fr_site(site, recognizer, text_layer):
    """A running site whose interface is in French."""
    running = Site(site, recognizer, text_layer, {"review.language": "fr", "authors.dr-martin.name": "Dr Paul Martin"})
    yield running
    running.close()


def french_only(page, when: str) -> None:
    """Nothing of the catalogues' English on the screen, nor in the words it keeps for its script."""
    assert english_words_in(page) == [], when


def saved_text(site: Site, job_id: int) -> str:
    """The report's text as the server keeps it ("" before the first save)."""
    blocks = Workspace(site.store).load(job_id).blocks
    return "\n".join(b.text for b in blocks or ())


def message_of(page) -> str:
    return page.locator("#message").inner_text()


def test_the_french_review_screen_has_no_english_from_opening_to_filing(fr_site: Site, browser) -> None:
    job_id = fr_site.dictate_text(CONSULTATION, sidecar={"patient": {"family_name": "Dupont", "given_names": "Jean",
                                                                     "birth_date": "1950-03-12"}})
    anne = _login(browser, fr_site, "anne")
    _open_review(anne, fr_site, job_id)
    assert anne.locator("#flags li").count() == 4
    assert "la fiche jointe" in anne.locator("#identity").inner_text()  # where the identity came from
    assert "Remplacer par « fissures »" in anne.locator("#flags button.suggestion").all_inner_texts()
    assert "À relire" in anne.locator("#job-state").inner_text()
    assert anne.locator("#author").inner_text() == "Dr Paul Martin"  # as the site names him
    french_only(anne, "opened")
    # an automatic change: what was heard, and the rule, in French
    anne.locator("#report span.edit").first.click()
    anne.wait_for_selector("#edit-detail:not([hidden])")
    assert "Entendu" in anne.locator("#edit-detail").inner_text()
    french_only(anne, "an automatic change")
    # validating with points left: the message, then the first point
    anne.keyboard.press("Control+Enter")
    anne.wait_for_function("document.getElementById('message').textContent.includes('point(s) à vérifier')")
    french_only(anne, "points left")
    # the patient: searched by name in any order; another one chosen: the conflict, in French
    anne.fill("#patient-query", "jean DUPONT")
    anne.wait_for_selector("#patient-results button[data-patient='100001']")
    assert anne.locator("#patient-results button").count() == 1
    assert "12/03/1950" in anne.locator("#patient-results").inner_text()  # a date as the French screens write it
    assert "12/03/1950" in anne.locator("#identity").inner_text() and "1950-03-12" not in anne.locator("#identity").inner_text()
    anne.fill("#patient-query", "marie durand")
    anne.wait_for_selector("#patient-results button[data-patient='100003']")
    anne.click("#patient-results button[data-patient='100003']")
    anne.wait_for_selector("#identity-conflict")
    french_only(anne, "identity conflict")
    while anne.locator("#flags li:not(.resolved)").count():
        item = anne.locator("#flags li:not(.resolved)").first
        left = anne.locator("#flags li:not(.resolved)").count()
        if item.locator("button.reading").count():
            item.locator("button.reading").first.click()
        elif item.locator("button.suggestion").count():
            item.locator("button.suggestion").click()
        else:
            item.locator("input[type=checkbox]").check()
        anne.wait_for_function("n => document.querySelectorAll('#flags li:not(.resolved)').length < n", arg=left)
    anne.wait_for_function("document.querySelectorAll('#flags input:not(:checked)').length === 0")
    anne.locator("#block-0").focus()
    anne.keyboard.press("Control+Enter")  # the identity to confirm is said first, before the confirmation
    anne.wait_for_function("document.getElementById('message').textContent.includes('cochez la case')")
    assert not anne.locator("#document-dialog").evaluate("d => d.open")
    assert "--confirm-identity" not in message_of(anne)  # the box, not a command-line flag
    french_only(anne, "identity to confirm")
    # find with no match, an unknown text block code, the preview
    anne.keyboard.press("Control+h")
    anne.keyboard.type("zzzz")
    anne.wait_for_function("document.getElementById('find-count').textContent === 'Introuvable'")
    anne.keyboard.press("Escape")
    _type_at_end(anne, " xyz")
    anne.keyboard.press("F3")
    anne.wait_for_function("document.getElementById('message').textContent.includes('xyz')")
    french_only(anne, "find, text block")
    anne.keyboard.press("Alt+p")
    anne.wait_for_selector("#document-dialog[open]")
    french_only(anne, "preview")
    anne.keyboard.press("Escape")
    # another secretary: the lock, and taking over without a reason
    bea = _login(browser, fr_site, "bea")
    _open_review(bea, fr_site, job_id)
    bea.wait_for_selector("#lock-bar:not([hidden])", timeout=20000)
    assert "anne travaille sur ce compte rendu" in bea.locator("#lock-message").inner_text()
    bea.click("#takeover")
    bea.wait_for_function("document.getElementById('message').textContent.includes('motif')")
    french_only(bea, "lock, take over")
    bea.close()
    # filed, then opened again: read only, in French
    anne.check("#confirm-identity")
    anne.wait_for_timeout(500)
    anne.locator("#block-0").focus()
    anne.keyboard.press("Control+Enter")
    anne.wait_for_selector("#document-dialog[open] #document-confirm:focus")
    french_only(anne, "the confirmation")
    anne.keyboard.press("Enter")
    anne.wait_for_function("document.getElementById('message').textContent.includes('100003_DURAND')", timeout=30000)
    french_only(anne, "filed")
    assert fr_site.store.jobs.get(job_id).state is JobState.FILED
    _open_review(anne, fr_site, job_id)
    anne.wait_for_selector("#reopen-bar:not([hidden])")
    assert "Classée" in anne.locator("#reopen-message").inner_text()
    french_only(anne, "filed, opened again")


def test_a_lost_connection_and_an_ended_session_are_said_in_french_and_lose_nothing(fr_site: Site, browser) -> None:
    job_id = fr_site.dictate_text("Patient vu ce jour. Examen normal.", sidecar={"patient": {"id": "100001"}})
    anne = _login(browser, fr_site, "anne")
    _open_review(anne, fr_site, job_id)
    anne.context.set_offline(True)
    _type_at_end(anne, " Tapé hors ligne.")
    anne.wait_for_function("document.getElementById('message').textContent.includes('Connexion au serveur perdue')")
    french_only(anne, "offline")
    assert "Tapé hors ligne." in _report_text(anne)  # still on her screen
    anne.context.set_offline(False)  # sent again a few seconds later
    wait_for(lambda: "Tapé hors ligne." in saved_text(fr_site, job_id), timeout_s=20)
    anne.context.clear_cookies()  # her session ends (expired, or ended by the admin)
    _type_at_end(anne, " Encore.")
    anne.wait_for_function("document.getElementById('message').textContent.includes('session a pris fin')")
    french_only(anne, "session ended")


def test_a_lock_left_idle_goes_back_by_itself(app_site: Site, browser, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review_state, "LOCK_S", 12)  # 2 minutes on a site; the same rule, shorter
    job_id = app_site.dictate("fr-mg-001")
    anne = _login(browser, app_site, "anne")
    _open_review(anne, app_site, job_id)
    bea = _login(browser, app_site, "bea")
    _open_review(bea, app_site, job_id)
    _type_at_end(anne, " Vu.")
    bea.wait_for_selector("#lock-bar:not([hidden])", timeout=20000)
    # anne stays on the page and types nothing more: her lock runs out, bea's screen can be worked on
    bea.wait_for_selector("#lock-bar", state="hidden", timeout=30000)
    assert bea.locator("#block-0").get_attribute("contenteditable") == "plaintext-only"
    assert Workspace(app_site.store).holder(job_id) is None
    _type_at_end(bea, " Repris.")
    wait_for(lambda: "Vu. Repris." in saved_text(app_site, job_id), timeout_s=10)
    assert Workspace(app_site.store).holder(job_id) == "bea"


def test_line_breaks_are_kept_and_the_word_played_is_shown_while_she_types(app_site: Site, browser) -> None:
    job_id = app_site.dictate_text("Patient vu ce jour point à la ligne Examen normal point à la ligne "
                                   "Pas de traitement point", sidecar={"patient": {"id": "100001"}})
    page = _login(browser, app_site, "anne")
    _open_review(page, app_site, job_id)
    text = _report_text(page)
    assert "jour.\nExamen normal.\nPas de traitement." in text
    block = page.locator("#block-0")
    assert block.inner_text().count("\n") >= 2  # shown on three lines, not run together
    assert block.evaluate("b => getComputedStyle(b).whiteSpace") == "pre-wrap"
    height = page.locator("#report").evaluate("r => r.getBoundingClientRect().height / window.innerHeight")
    assert height >= 0.6  # tall enough to read the report without scrolling a little box
    # she plays and types at the same time: the word being played is still shown, and moves on
    page.keyboard.press(app_site.settings.review.key_play_pause)
    page.wait_for_selector("#report span.playing", timeout=10000)
    _type_at_end(page, " Bonne tolérance", block=0)
    first = float(page.locator("#report span.playing").get_attribute("data-start"))
    page.wait_for_function("t => { const s = document.querySelector('#report span.playing');"
                           " return s && parseFloat(s.dataset.start) > t; }", arg=first, timeout=10000)
    assert "Bonne tolérance" in _report_text(page)
    page.keyboard.press(app_site.settings.review.key_play_pause)
    page.wait_for_function("document.getElementById('saved').textContent.startsWith('Saved')")
    # the buttons of the player, as the keys do
    page.wait_for_function("document.getElementById('player').paused")
    here = page.evaluate("document.getElementById('player').currentTime")
    step = app_site.settings.review.rewind_s
    page.click("#rewind")
    rewound = page.evaluate("document.getElementById('player').currentTime")
    assert abs(rewound - max(0.0, here - step)) < 0.05
    page.click("#forward")
    assert abs(page.evaluate("document.getElementById('player').currentTime") - (rewound + step)) < 0.05
    page.click("#play")
    page.wait_for_function("!document.getElementById('player').paused")
    page.click("#play")
    # a pedal held down repeats its key: it counts once
    key = app_site.settings.review.key_play_pause
    page.keyboard.down(key)
    page.keyboard.down(key)  # the repeat of a key held down
    page.keyboard.up(key)
    page.wait_for_timeout(300)
    assert not page.evaluate("document.getElementById('player').paused")
    page.keyboard.press(key)
    page.wait_for_function("document.getElementById('player').paused")
    # section by section: Tab goes to the next one, Shift+Tab back
    sections = app_site.dictate_text("Patient vu ce jour point à la ligne Antécédents deux points aucun point à la ligne "
                                     "Conclusion deux points revoir dans un mois point", clip="fr-mg-002")
    _open_review(page, app_site, sections)
    assert page.locator("#report .block-text").count() >= 2 and page.locator("#report h3.heading").count() >= 1
    assert page.evaluate("document.activeElement.id") == "block-0"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "block-1"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "block-0"
    # the doctor's read-only text keeps them too
    martin = _login(browser, app_site, "martin")
    martin.goto(f"{app_site.url}/mine/{job_id}")
    assert "jour.\nExamen normal." in martin.locator("#report-text").inner_text()


def test_alt_n_saves_and_opens_the_next_dictation_nobody_holds(app_site: Site, browser) -> None:
    first = app_site.dictate_text("Premier compte rendu.", clip="fr-mg-002")
    held = app_site.dictate_text("Deuxième compte rendu, pris par Béa.", clip="fr-mg-003")
    third = app_site.dictate_text("Troisième compte rendu.", clip="fr-mg-004")
    bea = _login(browser, app_site, "bea")
    _open_review(bea, app_site, held)
    _type_at_end(bea, " Béa.")
    wait_for(lambda: Workspace(app_site.store).holder(held) == "bea", timeout_s=10)
    anne = _login(browser, app_site, "anne")
    _open_review(anne, app_site, first)
    _type_at_end(anne, " Relu")
    anne.keyboard.press("Alt+n")  # at once: what she typed goes with it
    anne.wait_for_url(f"**/review/{third}")
    anne.wait_for_selector("body[data-ready='1']")
    assert "Relu" in Workspace(app_site.store).load(first).blocks[0].text
    assert Workspace(app_site.store).holder(first) is None  # left: given back


def test_print_the_disabled_validate_button_lengths_and_the_icon(app_site: Site, browser) -> None:
    job_id = app_site.dictate("fr-mg-001", {"patient": {"id": "100001"}})
    anne = _login(browser, app_site, "anne")
    _open_review(anne, app_site, job_id)
    anne.evaluate("window.print = () => { document.body.dataset.printed = '1'; }")
    anne.keyboard.press("Alt+p")
    anne.wait_for_selector("#document-dialog[open]")
    anne.click("#document-print")
    assert anne.locator("body").get_attribute("data-printed") == "1"
    anne.keyboard.press("Escape")
    _type_at_end(anne, " Vu.")
    # a report she cannot validate: the button looks it
    bea = _login(browser, app_site, "bea")
    _open_review(bea, app_site, job_id)
    bea.wait_for_selector("#lock-bar:not([hidden])", timeout=20000)
    validate = bea.locator("#validate")
    assert validate.is_disabled()
    assert float(validate.evaluate("b => getComputedStyle(b).opacity")) < 0.6
    assert validate.evaluate("b => getComputedStyle(b).cursor") == "not-allowed"
    enabled = anne.locator("#validate")
    assert float(enabled.evaluate("b => getComputedStyle(b).opacity")) == 1
    # the length of the dictation, written the same on every page
    length = format_duration(app_site.store.jobs.get(job_id).duration_s)
    assert anne.locator("#duration").inner_text() == length
    anne.wait_for_function("document.getElementById('player').duration > 0")
    played = anne.evaluate("Math.floor(document.getElementById('player').duration)")  # what the player writes
    assert length == f"{played // 60}:{played % 60:02d}"
    anne.goto(f"{app_site.url}/queue")
    anne.wait_for_selector(f"#queue tr[data-job='{job_id}']")
    assert anne.locator(f"#queue tr[data-job='{job_id}'] td.duration").inner_text() == length
    martin = _login(browser, app_site, "martin")
    martin.goto(f"{app_site.url}/mine")
    assert martin.locator(f"#mine tr[data-job='{job_id}'] td.duration").inner_text() == length
    martin.goto(f"{app_site.url}/mine/{job_id}")
    assert martin.locator("#duration").inner_text() == length
    # the icon, on every page, the login page too
    for page, path in ((anne, "/queue"), (anne, f"/review/{job_id}"), (martin, "/mine"), (martin, "/login")):
        page.goto(f"{app_site.url}{path}")
        icon = page.locator("link[rel=icon]").get_attribute("href")
        response = page.context.request.get(f"{app_site.url}{icon}")
        assert response.status == 200 and response.headers["content-type"].startswith("image/svg+xml"), path


ONE_MINUTE_CONSULTATION = (
    "Patient vu ce jour en consultation de suivi pour une hypertension artérielle et un "
    "diabète de type deux point il signale une fatigue modérée depuis deux semaines sans douleur thoracique ni "
    "dyspnée d'effort ni palpitations point à la ligne Antécédents deux points infarctus du myocarde en deux mille dix-huit "
    "virgule cholécystectomie point à la ligne Traitement deux points amlodipine cinq milligrammes le matin "
    "virgule metformine mille milligrammes matin et soir virgule Kardégic soixante-quinze milligrammes par jour "
    "virgule hydroxysine vingt-cinq milligrammes le soir virgule paracétamol 5,000 grammes si douleur point à la "
    "ligne Examen clinique deux points tension artérielle cent quarante sur quatre-vingt-dix virgule fréquence "
    "cardiaque soixante-douze par minute virgule auscultation cardiaque et pulmonaire normale point pas d'oedème "
    "des membres inférieurs point à la ligne Conclusion deux points hypertension insuffisamment contrôlée point "
    "on augmente l'amlodipine à dix milligrammes par jour point hémoglobine glyquée à contrôler dans trois mois "
    "point"
)


def test_a_one_minute_consultation_is_reviewed_corrected_and_filed_with_the_keyboard_only(
    fr_site: Site, browser
) -> None:
    """No mouse: Enter opens it from the worklist; listen, go through the points to check, correct, insert a
    text block, file. Prints the keystrokes and the seconds it took (``pytest -s``)."""
    app_site = fr_site
    folder = app_site.settings.paths.templates
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "autotext.tsv").write_text("rdv\tRevoir le patient dans trois mois avec un bilan biologique.\n")
    job_id = app_site.dictate_text(ONE_MINUTE_CONSULTATION, sidecar={"patient": {"id": "100001"}})
    assert len(ONE_MINUTE_CONSULTATION.split()) * 0.4 >= 55  # a minute of dictation
    page = _login(browser, app_site, "anne")
    assert page.url.endswith("/queue")
    page.wait_for_function(f"document.activeElement.getAttribute('href') === '/review/{job_id}'")
    started, keys = time.monotonic(), 0
    page.keyboard.press("Enter")  # the worklist opens with its first report's link under the keyboard
    keys += 1
    page.wait_for_selector("body[data-ready='1']", timeout=20000)

    def press(*names: str) -> None:
        nonlocal keys
        for name in names:
            page.keyboard.press(name)
            keys += 1

    def type_(text: str) -> None:
        nonlocal keys
        page.keyboard.type(text)
        keys += len(text)

    def pending() -> int:
        return page.locator("#flags input[type=checkbox]:not(:checked)").count()

    press("F9")  # the pedal: listen
    page.wait_for_function("document.getElementById('player').currentTime > 1")
    press("F9")
    assert pending() == 3
    press("Alt+ArrowDown")  # the first point: "hydroxysine", a medicine never written on the text alone
    assert page.evaluate("window.getSelection().toString()").strip().endswith("hydroxysine")
    press("Alt+1")  # its suggestion
    page.wait_for_function(f"({REPORT_TEXT}).includes('hydroxyzine 25 mg')")
    press("Alt+ArrowDown")  # the doubtful dose "5,000 g": its first reading
    press("Alt+1")
    page.wait_for_function(f"({REPORT_TEXT}).includes('paracétamol 5 g si douleur')")
    press("Alt+ArrowDown")  # the dose above the usual maximum, now 5 g: checked
    press("Alt+v")
    page.wait_for_function("document.querySelectorAll('#flags input[type=checkbox]:not(:checked)').length === 0")
    press("Control+h")  # a correction: find and replace
    type_("oedème")
    press("Tab")
    type_("œdème")
    press("Enter", "Escape")
    page.wait_for_function(f"({REPORT_TEXT}).includes(\"d'œdème des membres\")")
    press("Control+End")  # the end of the report (the conclusion): a text block by its code
    type_(" rdv")
    press("F3")
    page.wait_for_function(f"({REPORT_TEXT}).endsWith('Revoir le patient dans trois mois avec un bilan biologique.')")
    press("Control+s")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-screen-keyboard.png"), full_page=True)
    press("Control+Enter")  # validate: the document, then Enter to file it
    page.wait_for_selector("#document-dialog[open] #document-confirm:focus")
    press("Enter")
    page.wait_for_function("document.getElementById('message').textContent.includes('100001_DUPONT')", timeout=30000)
    seconds = time.monotonic() - started
    print(f"\nKEYBOARD-ONLY: {keys} keystrokes, {seconds:.1f} s (from the worklist, no mouse)")
    assert keys <= 33, "the keyboard-only review needs more keys than docs/review-app.md says"  # a count, not a time
    page.wait_for_url("**/queue", timeout=10000)  # back to the worklist, for the next one
    from docx import Document

    filed = next((app_site.settings.paths.outbox / "100001_DUPONT").glob(f"*_{job_id}.docx"))
    body = "\n".join(p.text for p in Document(str(filed)).paragraphs)
    assert "hydroxyzine 25 mg" in body and "paracétamol 5 g" in body and "œdème" in body
    assert "Revoir le patient dans trois mois" in body and "5,000" not in body


def test_text_typed_just_before_closing_the_tab_is_kept(app_site: Site, browser) -> None:
    job_id = app_site.dictate("fr-mg-001")
    page = _login(browser, app_site, "anne")
    _open_review(page, app_site, job_id)
    _type_at_end(page, " Tapé avant de fermer")
    page.close(run_before_unload=True)  # at once, before the autosave
    wait_for(lambda: "Tapé avant de fermer" in saved_text(app_site, job_id), timeout_s=10)
    wait_for(lambda: Workspace(app_site.store).holder(job_id) is None, timeout_s=10)  # and the lock given back


def test_ctrl_s_saves_at_once(app_site: Site, browser) -> None:
    job_id = app_site.dictate("fr-mg-001")
    page = _login(browser, app_site, "anne")
    page.clock.install()
    _open_review(page, app_site, job_id)
    page.clock.pause_at(int(time.time() * 1000) + 1000)  # the page's timers stop: no autosave 0.7 s later
    _type_at_end(page, " Enregistré par Ctrl+S")
    page.wait_for_timeout(1500)
    assert "Ctrl+S" not in saved_text(app_site, job_id)
    page.keyboard.press("Control+s")
    wait_for(lambda: "Enregistré par Ctrl+S" in saved_text(app_site, job_id), timeout_s=10)
