"""Learning from the secretary: figures from real validated reports, proposals, replay, re-runs."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import numpy as np
import pytest

from transcribe.intake.inbox import Intake
from transcribe.learning.accuracy import accuracy, decide, list_proposals, refresh_proposals, replay, validated_cases
from transcribe.learning.references import compare, propose, words_of
from transcribe.learning.rerun import choose_jobs, rerun
from transcribe.patient_record.patient_import import parse_patient_csv
from transcribe.patient_record.validation import validate_report
from transcribe.records import JobState, transcript_from_json
from transcribe.security.audit import AuditTrail
from transcribe.settings import Settings
from transcribe.store import JobStore
from transcribe.store.schema import audit_log
from transcribe.text import TextLayer
from transcribe.vocabulary.files import load_vocabulary, vocabulary_folder
from transcribe.work.review_state import Workspace, WorkState
from transcribe.worker import Worker, load_text_layer

from .audio_files import clip_samples, write_audio
from .conftest import ROOT, dictation
from .recorded import draft_recorded


def _levenshtein(a: list[str], b: list[str]) -> int:
    """Word edit distance, written out here so that the figures are checked independently."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def test_a_hand_computed_comparison(text_layer: TextLayer) -> None:
    vocab = text_layer.vocabulary.for_language("fr")
    is_term = lambda w: vocab.term(w) is not None or w.upper() in vocab.abbreviations  # noqa: E731
    result = compare("Patient sous ferrosémie 40 mg, HTA ancienne.", "Patient sous furosémide 40 mg, HTA ancienne.", is_term)
    assert (result.words, result.errors, result.terms, result.term_errors) == (7, 1, 2, 1)
    assert result.word_error_rate == pytest.approx(1 / 7)
    assert result.substitutions == (("ferrosémie", "furosémide"),)


def test_a_misheard_run_is_one_substitution_not_a_word_and_deletions() -> None:
    result = compare("le soir pour accalier mis à 4,2", "le soir kaliémie à 4,2", lambda w: w == "kaliémie")
    assert result.substitutions == (("pour accalier mis", "kaliémie"),)  # never "pour" -> kaliémie
    assert result.errors == 3 and result.term_errors == 1


def test_proposals_need_repetition_and_never_touch_a_drug() -> None:
    seen = [("fr", "dr-a", "fures aux emmides", "furosémide")] * 2 + [("fr", "dr-a", "hydroxyzine", "hydralazine")] * 3 \
        + [("fr", "dr-a", "zolmi", "zolmitriptan")] * 2 + [("fr", "dr-a", "une", "un")] * 5
    drafts = propose(seen, is_term=lambda lang, w: w in {"furosémide", "hydralazine", "hydroxyzine"},
                     is_ordinary=lambda lang, w: w in {"un", "une"}, is_drug=lambda lang, w: w == "hydroxyzine")
    by_target = {d.target: d for d in drafts}
    assert by_target["furosémide"].kind == "correction" and by_target["furosémide"].wrong_forms == (("fures aux emmides", 2),)
    assert by_target["zolmitriptan"].kind == "term"
    assert "hydralazine" not in by_target  # a drug heard as another drug is never a rule
    assert "un" not in by_target  # ordinary words are not vocabulary


def test_a_correction_rule_never_rewrites_ordinary_words() -> None:
    # "pour accalier mis" validated as "pour kaliémie": the alignment may pair "pour" with the term
    seen = [("fr", "dr-a", "pour", "kaliémie")] * 3 + [("fr", "dr-a", "la pizza dans", "apixaban")] * 3 \
        + [("fr", "dr-a", "accalier mis", "kaliémie")] * 2
    ordinary = {"pour", "la", "pizza", "dans", "mis"}
    drafts = propose(seen, is_term=lambda lang, w: w in {"kaliémie", "apixaban"},
                     is_ordinary=lambda lang, w: w in ordinary, is_drug=lambda lang, w: w == "apixaban")
    by_target = {d.target: d for d in drafts}
    assert by_target["kaliémie"].wrong_forms == (("accalier mis", 2),)  # never "pour" -> kaliémie in every report
    assert "apixaban" not in by_target


def test_the_first_accepted_proposal_does_not_hide_the_installed_vocabulary(site: Path) -> None:
    # accepting a proposal creates vocab/site/ inside the site's (otherwise absent) vocab/ folder
    (site / "vocab" / "site" / "fr").mkdir(parents=True)
    (site / "vocab" / "site" / "fr" / "terms.tsv").write_text("kaliémie\tterm\n", encoding="utf-8")
    folder = vocabulary_folder(site / "vocab")
    assert folder != site / "vocab" and (folder / "fr" / "terms.tsv").is_file()
    vocabulary = load_vocabulary(folder, site_folder=site / "vocab" / "site")
    assert vocabulary.for_language("fr") is not None and vocabulary.for_language("en") is not None


def _two_dictations(settings: Settings, store: JobStore, text_layer, tmp_path: Path) -> list:
    """The same dictation twice (the audio slightly varied, so that the archive takes both), drafted by the
    pipeline from the engine's recorded transcript: "Fures aux emmides … pour accalier mis à 4,2" for
    "Furosémide … Kaliémie à 4,2" (a live decode hears it differently on another processor)."""
    speech = clip_samples(dictation("fr-dose-01"))
    jobs = []
    for number in range(2):
        varied = (speech.astype(np.int32) + np.random.default_rng(number).integers(-20, 20, speech.size))
        path = write_audio(varied.clip(-32767, 32767).astype(np.int16), tmp_path / f"dose{number}.opus")
        jobs.append(draft_recorded(settings, store, text_layer, "fr-dose-01", audio=path))
    return jobs


@pytest.fixture
def validated(settings: Settings, store: JobStore, text_layer, tmp_path: Path):
    """Two dictations transcribed by the pipeline and validated with the secretary's corrections."""
    store.patients.import_patients(parse_patient_csv("id,family_name,given_names,birth_date\n1,Dupont,Jean,1950-03-12\n")[0])
    jobs = _two_dictations(settings, store, text_layer, tmp_path)
    trail = AuditTrail.of_site(store, settings)
    corrected = []
    reference = next(json.loads(line)["reference"] for line in (ROOT / "tests" / "dictations" / "scripts.jsonl")
                     .read_text().splitlines() if '"fr-dose-01"' in line)
    for job in jobs:
        draft = store.jobs.results_of(job.id)["text"].read_text().strip()
        fixed = reference  # what the doctor said, as the secretary types it
        trail.record("anne", "opened", job.id)
        validate_report(settings, store, job.id, validator="anne", patient_id="1", text=fixed, flags_checked=True)
        trail.record("anne", "validated", job.id)
        corrected.append((draft, fixed))
    with store.transaction() as conn:  # the secretary spent exactly one minute on each
        for job in jobs:
            rows = conn.execute(audit_log.select().where(audit_log.c.job_id == job.id).order_by(audit_log.c.id)).all()
            conn.execute(audit_log.update().where(audit_log.c.id == rows[1].id).values(at=rows[0].at + 60))
    from transcribe.security.accounts import Accounts

    anne = Accounts(store).add_user("anne", "correct horse battery", "secretary")
    Workspace(store).save(jobs[0].id, anne.id, WorkState(reverted=[0]))
    return jobs, corrected


def test_figures_match_a_hand_computed_case(settings: Settings, store: JobStore, text_layer, validated) -> None:
    jobs, corrected = validated
    figures = accuracy(validated_cases(store), text_layer.vocabulary, "author")
    words = sum(len(words_of(fixed)) for _, fixed in corrected)
    errors = sum(_levenshtein(words_of(draft), words_of(fixed)) for draft, fixed in corrected)
    edits = sum(len(json.loads(store.jobs.results_of(j.id)["edits"].read_text())["edits"]) for j in jobs)
    audio = sum(store.jobs.get(j.id).duration_s for j in jobs)
    mine = figures["dr-martin"]
    assert mine["reports"] == 2 and mine["words"] == words
    assert mine["word_error_rate"] == pytest.approx(errors / words, abs=1e-4)
    assert mine["edits_reverted"] == pytest.approx(1 / edits, abs=1e-4)
    assert mine["review_minutes_per_audio_minute"] == pytest.approx(120 / audio, abs=0.01)
    assert mine["term_error_rate"] > 0  # kaliémie was misheard in the drafts
    assert figures["all"]["reports"] == 2
    assert set(accuracy(validated_cases(store), text_layer.vocabulary, "week")) >= {"all"}


def test_a_proposal_is_replayed_then_accepted_by_an_admin(settings: Settings, store: JobStore, text_layer,
                                                          validated, tmp_path: Path) -> None:
    jobs, _ = validated
    assert refresh_proposals(store, text_layer.vocabulary) >= 1
    proposal = next(p for p in list_proposals(store) if p.target == "kaliémie")
    assert proposal.kind == "correction" and proposal.count == 2 and proposal.author == "dr-martin"
    wrong = proposal.wrong_forms[0][0]
    effect = replay(store, text_layer.vocabulary, proposal.id)
    assert effect.dictations == 2 and effect.errors_fixed >= 2 and effect.errors_introduced == 0
    transcript = transcript_from_json(json.loads(store.jobs.results_of(jobs[0].id)["transcript"].read_text()))
    assert "aliémie" not in text_layer.clean(transcript).text  # nothing changed by itself
    site_vocab = tmp_path / "site"
    settings = Settings(paths=type(settings.paths)(**{**settings.paths.__dict__, "site_vocab": site_vocab}))
    decide(store, settings, proposal.id, accept=True, by="root")
    assert list_proposals(store, "accepted")[0].decided_by == "root"
    reloaded = TextLayer(load_vocabulary(ROOT / "vocab", site_folder=site_vocab))
    mine = reloaded.clean(transcript, author="dr-martin").text.lower()
    assert "kaliémie" in mine and wrong not in mine
    # learned from dr-martin's reports, it applies to dr-martin only, until the admin widens it
    assert wrong in reloaded.clean(transcript, author="dr-other").text.lower()
    with pytest.raises(Exception, match="already accepted"):
        decide(store, settings, proposal.id, accept=False, by="root")


def test_a_proposal_never_holds_a_patient_name(settings: Settings, store: JobStore, text_layer, tmp_path: Path) -> None:
    """A secretary who corrects a misheard surname must not teach it to the vocabulary (names are patient data)."""
    store.patients.import_patients(parse_patient_csv("id,family_name,given_names\n7,Kerbrat-Lozach,Ewen\n")[0])
    jobs = _two_dictations(settings, store, text_layer, tmp_path)
    drafts = [store.jobs.results_of(job.id)["text"].read_text().strip() for job in jobs]
    common = set.intersection(*({w.strip(".,") for w in d.split() if len(w.strip(".,")) > 4 and w.isalpha()}
                                for d in drafts))
    first, second = sorted(common)[:2]
    for job, draft in zip(jobs, drafts):
        # twice she corrects two misheard words: into a name of the index, and a name of the identity line
        fixed = "Madame Lagarrigue née le 3 mars 1950. " + draft.replace(first, "Kerbratlozach").replace(
            second, "Lagarrigue").replace(",000 g", " mg")  # and she writes the doubtful doses right
        validate_report(settings, store, job.id, validator="anne", patient_id="7", text=fixed, flags_checked=True)
    refresh_proposals(store, text_layer.vocabulary)
    held = {p.target.lower() for p in list_proposals(store)} | {
        form.lower() for p in list_proposals(store) for form, _ in p.wrong_forms}
    assert not {w for w in held if "kerbrat" in w or "lagarrigue" in w}, held


def test_rerun_keeps_the_earlier_draft_and_transcribes_again(settings: Settings, store: JobStore, recognizer,
                                                             text_layer) -> None:
    from datetime import datetime

    from .conftest import copy_into

    job = Intake(settings, store).take(copy_into(dictation("en-gp-001"), settings.paths.inbox, "x.opus"))
    Worker(settings, store, recognizer, text_layer).run_next()
    first = store.jobs.results_of(job.id)["text"].read_text()
    choice = choose_jobs(store, datetime(2000, 1, 1, tzinfo=UTC))
    assert [j.id for j in choice.again] == [job.id]
    rerun(settings, store, choice.again, "root", "vocabulary changed")
    assert store.jobs.get(job.id).state is JobState.QUEUED
    assert (settings.paths.drafts / str(job.id) / "previous-1" / "draft.txt").read_text() == first
    Worker(settings, store, recognizer, text_layer).run_next()
    assert store.jobs.get(job.id).state is JobState.DRAFTED
    assert "rerun" in [e[1] for e in store.jobs.events(job.id)]


def test_stats_and_proposals_commands(site: Path, settings: Settings, store: JobStore, validated) -> None:
    stats = subprocess.run([sys.executable, "-m", "transcribe", "stats", "--json"], cwd=site, capture_output=True,
                           text=True, timeout=120)
    assert stats.returncode == 0 and json.loads(stats.stdout)["dr-martin"]["reports"] == 2
    listed = subprocess.run([sys.executable, "-m", "transcribe", "proposals"], cwd=site, capture_output=True,
                            text=True, timeout=120)
    assert listed.returncode == 0 and "kaliémie" in listed.stdout
    assert "words the engine expects from dr-martin" in listed.stdout  # the drugs of both reports, for biasing
    assert " for  (seen" not in listed.stdout  # a biasing proposal is not a correction with no wrong form


def test_the_cli_widens_an_accepted_correction_to_every_author_and_a_running_worker_uses_it(
        site: Path, settings: Settings, store: JobStore, recognizer, validated) -> None:
    jobs, _ = validated
    worker_layer = load_text_layer(settings, warm=False)
    worker = Worker(settings, store, recognizer, worker_layer)
    listed = subprocess.run([sys.executable, "-m", "transcribe", "proposals"], cwd=site, capture_output=True,
                            text=True, timeout=120)
    assert listed.returncode == 0
    proposal = next(p for p in list_proposals(store) if p.target == "kaliémie")
    wrong = proposal.wrong_forms[0][0]
    accepted = subprocess.run([sys.executable, "-m", "transcribe", "proposals", "accept", str(proposal.id),
                               "--all-authors"], cwd=site, capture_output=True, text=True, timeout=120)
    assert accepted.returncode == 0, accepted.stderr
    rows = (settings.paths.site_vocab / "fr" / "corrections.tsv").read_text(encoding="utf-8")
    assert f"{wrong}\tkaliémie" in rows  # the site-wide table, not the author's own
    assert not (settings.paths.site_vocab / "authors" / "corrections" / "dr-martin.tsv").exists()
    transcript = transcript_from_json(json.loads(store.jobs.results_of(jobs[0].id)["transcript"].read_text()))
    assert wrong in worker.text_layer.clean(transcript, author="dr-other").text.lower()
    assert worker.reload_vocabulary_if_changed(now=True)  # the next job of the running worker sees the new files
    assert "kaliémie" in worker.text_layer.clean(transcript, author="dr-other").text.lower()
    assert not worker.reload_vocabulary_if_changed(now=True)


def test_the_dashboard_and_the_proposals_pages(app_site) -> None:
    from .test_security import Client

    job_id = app_site.dictate("fr-dose-01", {"patient": {"id": "100001"}})
    validate_report(app_site.settings, app_site.store, job_id, validator="anne", flags_checked=True,
                    text="Furosémide 80 mg par jour et hydroxyzine 25 mg le soir. Kaliémie à 4,2.")
    admin = Client(app_site)
    admin.login("root")
    status, _, page = admin.request("GET", "/stats?by=worktype")
    assert status == 200 and b'data-group="all"' in page and b"<svg" in page and b"<script" not in page.split(b"</main>")[0]
    status, _, page = admin.request("GET", "/admin/proposals")
    assert status == 200 and b'id="proposals"' in page
    doctor = Client(app_site)
    doctor.login("martin")
    assert doctor.request("GET", "/stats")[0] == 200
