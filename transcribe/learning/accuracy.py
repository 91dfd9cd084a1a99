"""The accuracy dashboard and the vocabulary proposals, computed from what the store already holds.

For every validated report: its draft (what the pipeline wrote), its first
validated text (what the secretary made of it), the text layer's edits and the
ones she reverted, and her review time (audit trail: first opened to
validated). Nothing leaves the store; the figures hold no patient text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transcribe.learning.references import Comparison, Totals, compare, propose
from transcribe.records import Job, JobState, Proposal, ProposalDraft, ProposalEffect, transcript_from_json
from transcribe.settings import Settings
from transcribe.speech.biasing import terms_in
from transcribe.store import JobStore
from transcribe.text import TextLayer
from transcribe.vocabulary.files import append_site_rows
from transcribe.vocabulary.folding import fold
from transcribe.vocabulary.records import Vocabulary, with_addition
from transcribe.work.review_state import Workspace

if TYPE_CHECKING:
    from transcribe.security.audit import Auditor

GROUPS = ("author", "worktype", "language", "model", "vocabulary", "week")


@dataclass(frozen=True)
class ValidatedCase:
    """One validated report and what is needed to compare it with its draft."""

    job: Job
    draft: str
    validated: str
    edits: int
    reverted: int
    review_s: float | None
    validated_at: float
    transcript_path: Path | None


def validated_cases(store: JobStore, *, author: str | None = None) -> list[ValidatedCase]:
    """Every validated (or filed) report, with its draft and first validated text."""
    workspace = Workspace(store)
    cases = []
    for state in (JobState.VALIDATED, JobState.FILED):
        for job in store.jobs.list_jobs(state=state, limit=100_000):
            if author and job.author != author:
                continue
            first = store.reports.report(job.id, 1)
            outputs = store.jobs.results_of(job.id)
            if first is None or "text" not in outputs:
                continue
            try:
                draft = outputs["text"].read_text(encoding="utf-8").strip()
                edits = (
                    len(json.loads(outputs["edits"].read_text(encoding="utf-8"))["edits"]) if "edits" in outputs else 0
                )
            except (OSError, ValueError, KeyError):
                continue
            cases.append(
                ValidatedCase(
                    job,
                    draft,
                    first.text,
                    edits,
                    len(workspace.load(job.id).reverted),
                    _review_seconds(store, job.id),
                    first.validated_at,
                    outputs.get("transcript"),
                )
            )
    return sorted(cases, key=lambda c: c.validated_at)


def _review_seconds(store: JobStore, job_id: int) -> float | None:
    rows = store.proposals.job_actions(job_id)
    opened = next((at for action, at in rows if action == "opened"), None)
    validated = next((at for action, at in rows if action == "validated"), None)
    return validated - opened if opened is not None and validated is not None and validated >= opened else None


def _is_term(vocabulary: Vocabulary, language: str, word: str) -> bool:
    vocab = vocabulary.for_language(language)
    return vocab is not None and (vocab.term(word) is not None or word.upper() in vocab.abbreviations)


def comparison_of(case: ValidatedCase, vocabulary: Vocabulary) -> Comparison:
    """The draft of a case against its validated text."""
    language = case.job.language or "fr"
    return compare(case.draft, case.validated, lambda w: _is_term(vocabulary, language, w))


def group_key(case: ValidatedCase, by: str) -> str:
    """The value of a case for a grouping: its author, worktype, language, model, vocabulary or week."""
    job = case.job
    return {
        "author": job.author,
        "worktype": job.worktype or "-",
        "language": job.language or "-",
        "model": job.model or "-",
        "vocabulary": job.vocabulary_version or "-",
        "week": datetime.fromtimestamp(case.validated_at).strftime("%G-W%V"),
    }[by]


def accuracy(cases: list[ValidatedCase], vocabulary: Vocabulary, by: str) -> dict[str, dict[str, Any]]:
    """The dashboard's figures per group, plus the total ("all")."""
    totals: dict[str, Totals] = {}
    for case in cases:
        comparison = comparison_of(case, vocabulary)
        for key in (group_key(case, by), "all"):
            totals.setdefault(key, Totals()).add(
                comparison,
                edits=case.edits,
                reverted=case.reverted,
                review_s=case.review_s,
                audio_s=case.job.duration_s or 0.0,
            )
    return {key: t.figures() for key, t in sorted(totals.items(), key=lambda kv: (kv[0] == "all", kv[0]))}


# --- proposals ------------------------------------------------------------------------------
def refresh_proposals(store: JobStore, vocabulary: Vocabulary, *, minimum: int = 2) -> int:
    """Recompute the proposals from every validated report; keep decisions already taken. Returns how many are open."""
    substitutions = []
    cases = validated_cases(store)
    for case in cases:
        language = case.job.language or "fr"
        for wrong, right in comparison_of(case, vocabulary).substitutions:
            substitutions.append((language, case.job.author, wrong, right))

    def vocab_of(language: str):
        return vocabulary.for_language(language)

    drafts = propose(
        substitutions,
        is_term=lambda lang, word: _is_term(vocabulary, lang, word),
        is_ordinary=lambda lang, word: vocab_of(lang) is not None and word in vocab_of(lang).ordinary_words,
        is_drug=lambda lang, word: (
            vocab_of(lang) is not None and (t := vocab_of(lang).term(word)) is not None and t.is_drug
        ),
        minimum=minimum,
    ) + biasing_proposals(cases, vocabulary, minimum=minimum)
    private = private_words(store, cases)
    drafts = [d for d in drafts if not _holds_private(d, private)]
    return store.proposals.keep_proposals(drafts)


#: words that open an identity line ("Patient Jean Dupont né le...", "Madame DURAND"): its capitalised words
#: are a person's names, never a vocabulary proposal
_IDENTITY_LINE = re.compile(
    r"\b(?:patient|patiente|madame|monsieur|mme|mlle|m\.|mr|mrs|ms|miss|enfant|né|née|born|date of birth|"
    r"date de naissance|nom|name)\b",
    re.IGNORECASE,
)


def private_words(store: JobStore, cases: list[ValidatedCase]) -> frozenset[str]:
    """Words that may name a patient: every name of the patient index, and the capitalised words of the
    identity lines of the validated reports (folded). A proposal never holds one."""
    words: set[str] = set()
    for names in store.proposals.patient_names():
        for name in names:
            parts = re.findall(r"[^\W\d_]+", fold(name or ""))
            words.update(parts)
            words.add("".join(parts))  # "Kerbrat-Lozach" typed as one word
    for case in cases:
        for line in re.split(r"[\n.;]", case.validated):
            if _IDENTITY_LINE.search(line):
                words.update(fold(w) for w in re.findall(r"\b[^\W\d_][\w'-]*", line) if w[:1].isupper())
    return frozenset(w for w in words if len(w) >= 2)


def _holds_private(draft: ProposalDraft, private: frozenset[str]) -> bool:
    texts = [draft.target] + [form for form, _ in draft.wrong_forms]
    return any(word in private for text in texts for word in re.findall(r"[^\W\d_]+", fold(text)))


def biasing_proposals(cases: list[ValidatedCase], vocabulary: Vocabulary, *, minimum: int = 2) -> list[ProposalDraft]:
    """Terms an author dictates often (in at least ``minimum`` validated reports), to tell the engine to expect.

    Accepted by an admin, they join the author's biasing list (``vocab/site/authors/learned/``), most
    frequent first. Terms already in the author's lists are not proposed again.
    """
    texts: dict[tuple[str, str], list[str]] = {}
    for case in cases:
        texts.setdefault((case.job.language or "fr", case.job.author), []).append(case.validated)
    drafts = []
    for (language, author), validated in texts.items():
        vocab = vocabulary.for_language(language)
        if vocab is None:
            continue
        known = {fold(t) for t in vocabulary.author_terms.get(author, ()) + vocabulary.learned_terms.get(author, ())}
        for term, count in terms_in(validated, vocab):
            if count >= minimum and fold(term) not in known:
                drafts.append(ProposalDraft("biasing", language, author, term, (), count))
    return drafts


def list_proposals(store: JobStore, status: str | None = "open") -> list[Proposal]:
    """The proposals, most frequent first."""
    return store.proposals.proposals(status)


def _proposal(store: JobStore, proposal_id: int) -> Proposal:
    found = store.proposals.proposal(proposal_id)
    if found is None:
        from transcribe.errors import ReviewError

        raise ReviewError(f"no proposal {proposal_id}; 'transcribe proposals' lists them")
    return found


def replay(store: JobStore, vocabulary: Vocabulary, proposal_id: int) -> ProposalEffect:
    """The proposal's effect on its author's past validated dictations: word errors fixed and introduced."""
    proposal = _proposal(store, proposal_id)
    if proposal.kind == "biasing":
        from transcribe.errors import ReviewError

        raise ReviewError(
            f"proposal {proposal_id} changes what the engine is told to expect, not the text: it "
            "cannot be replayed on past texts; its effect shows in the figures once accepted"
        )
    changed = with_addition(
        vocabulary,
        proposal.language,
        proposal.kind,
        proposal.target,
        tuple(form for form, _ in proposal.wrong_forms),
    )
    before_layer, after_layer = TextLayer(vocabulary), TextLayer(changed)
    fixed = introduced = cases = 0
    for case in validated_cases(store, author=proposal.author):
        if case.transcript_path is None or (case.job.language or "fr") != proposal.language:
            continue
        transcript = transcript_from_json(json.loads(case.transcript_path.read_text(encoding="utf-8")))
        is_term = lambda w: _is_term(changed, proposal.language, w)  # noqa: E731
        before = compare(before_layer.clean(transcript).text, case.validated, is_term).errors
        after = compare(after_layer.clean(transcript).text, case.validated, is_term).errors
        fixed += max(0, before - after)
        introduced += max(0, after - before)
        cases += 1
    effect = ProposalEffect(dictations=cases, errors_fixed=fixed, errors_introduced=introduced)
    store.proposals.keep_proposal_effect(proposal_id, effect)
    return effect


def decide(
    store: JobStore,
    settings: Settings,
    proposal_id: int,
    *,
    accept: bool,
    by: str,
    every_author: bool = False,
    audit: Auditor | None = None,
) -> Proposal:
    """Accept (written to the site vocabulary) or reject a proposal. Nothing changes by itself.

    ``audit`` writes the decision's entry in the transaction that records it.

    An accepted correction applies to the author it was learned from (``vocab/site/authors/corrections/``),
    unless the admin widens it to every author (``every_author``: ``vocab/site/<lang>/corrections.tsv``).
    """
    proposal = _proposal(store, proposal_id)
    if proposal.status != "open":
        from transcribe.errors import ReviewError

        raise ReviewError(f"proposal {proposal_id} was already {proposal.status}")
    if accept and proposal.kind == "biasing":
        learned = settings.paths.site_vocab / "authors" / "learned" / f"{proposal.author}.tsv"
        append_site_rows(learned, [(proposal.target, "term", str(proposal.count))])
    elif accept:
        folder = settings.paths.site_vocab / proposal.language
        rows = [(form, proposal.target) for form, _ in proposal.wrong_forms]
        if proposal.kind == "term":
            append_site_rows(folder / "terms.tsv", [(proposal.target, "term")])
        elif every_author:
            append_site_rows(folder / "corrections.tsv", rows)
        else:
            own = settings.paths.site_vocab / "authors" / "corrections" / f"{proposal.author}.tsv"
            append_site_rows(own, [(*row, proposal.language) for row in rows])
    widened = ", every author" if accept and every_author else ""
    store.proposals.decide_proposal(
        proposal_id, accept=accept, by=by, audit=audit, detail=f"proposal {proposal_id}{widened}"
    )
    return _proposal(store, proposal_id)
