"""The secretary's work on a report: undo acts on the edit's own place, readings replace the doubtful dose.

Pure tests of ``transcribe.work.review_state``: blocks, anchors that follow the typing, reverts and
readings. The case seen: undoing "cinq -> 5" in "Kardégic 75 mg, bisoprolol 5 mg" after typing
changed "75" into "7cinq" and showed the edit as undone.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transcribe.errors import ReviewError
from transcribe.records import Edit
from transcribe.review.annotated import annotated_blocks
from transcribe.work.anchors import follow_loosely
from transcribe.work.review_state import (
    AnchorLost,
    Block,
    DraftMaterial,
    LockHeld,
    WorkState,
    apply_suggestion,
    choose_reading,
    current_layout,
    editable_blocks,
    replace_text,
    revert_edit,
    still_ambiguous,
    take_typed_blocks,
)

SOURCE = "kardégic 75 mg, bisoprolol cinq mg"
#: the text layer wrote "Kardégic" and "5": two edits on the source
EDITS = (Edit(0, 8, "kardégic", "Kardégic", "casing"), Edit(27, 31, "cinq", "5", "number"))


def material(flags: tuple[dict, ...] = ()) -> DraftMaterial:
    return DraftMaterial(SOURCE, EDITS, flags, "fr", ())


def test_the_layout_places_each_edit_and_flag() -> None:
    layout = current_layout(material(({"start": 27, "end": 34, "kind": "dose", "reason": ""},)), [])
    assert layout.text == "Kardégic 75 mg, bisoprolol 5 mg"
    assert layout.text[slice(*layout.spans["edit:1"])] == "5"
    assert layout.text[slice(*layout.spans["flag:0"])] == "5 mg"
    reverted = current_layout(material(), [1])
    assert reverted.text == "Kardégic 75 mg, bisoprolol cinq mg"


def test_undo_after_typing_changes_only_the_edit_itself() -> None:
    draft = material()
    state = WorkState()
    blocks = editable_blocks(draft, state, None)
    assert blocks[0].text == "Kardégic 75 mg, bisoprolol 5 mg"
    # she types "le matin" after the dose, then reverts "cinq -> 5"
    take_typed_blocks(draft, state, None, [Block("body", "", "Kardégic 75 mg, bisoprolol 5 mg le matin")])
    revert_edit(draft, state, 1, undo=False)
    assert state.blocks[0].text == "Kardégic 75 mg, bisoprolol cinq mg le matin"
    assert 1 in state.reverted
    # and applying it again puts back the 5, there only
    revert_edit(draft, state, 1, undo=True)
    assert state.blocks[0].text == "Kardégic 75 mg, bisoprolol 5 mg le matin"


def test_undo_of_a_passage_rewritten_by_hand_is_refused() -> None:
    draft = material()
    state = WorkState()
    editable_blocks(draft, state, None)
    take_typed_blocks(draft, state, None, [Block("body", "", "Kardégic 75 mg, bisoprolol 2,5 mg")])
    with pytest.raises(AnchorLost):
        revert_edit(draft, state, 1, undo=False)
    assert state.blocks[0].text == "Kardégic 75 mg, bisoprolol 2,5 mg" and not state.reverted


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_undo_after_typing_anywhere(data: st.DataObject) -> None:
    """Typing at every position, then undoing: the edit's own "5" becomes "cinq", or undo is refused.

    Never another place: the "75" of Kardégic is never touched.
    """
    draft = material()
    state = WorkState()
    text = editable_blocks(draft, state, None)[0].text
    start = text.index("bisoprolol 5") + len("bisoprolol ")  # the edit's "5"
    position = data.draw(st.integers(0, len(text)))
    deleted = data.draw(st.integers(0, min(3, len(text) - position)))
    typed = data.draw(st.text(st.sampled_from("5cinq ,x7é"), max_size=3))
    typed_text = text[:position] + typed + text[position + deleted:]
    take_typed_blocks(draft, state, None, [Block("body", "", typed_text)])
    # she deleted the edit's "5" and did not type a "5" again (retyping it leaves the same characters)
    overlaps = deleted > 0 and position < start + 1 and position + deleted > start and "5" not in typed
    near = position <= start + 1 and position + deleted >= start
    try:
        revert_edit(draft, state, 1, undo=False)
    except AnchorLost:
        assert near, "refused though she typed elsewhere"
        assert state.blocks[0].text == typed_text and 1 not in state.reverted
        return
    assert not overlaps, "applied over characters she rewrote"
    result = state.blocks[0].text
    places = [p for p in range(len(typed_text)) if typed_text[p] == "5"
              and result == typed_text[:p] + "cinq" + typed_text[p + 1:]]
    assert places, (typed_text, result)
    expected = start + (len(typed) - deleted if position + deleted <= start else 0)
    assert any(abs(p - expected) <= len(typed) for p in places), (typed_text, result)
    assert "Kardégic 7cinq" not in result and 1 in state.reverted


def test_a_doubtful_dose_is_replaced_by_the_chosen_reading_and_cannot_be_ticked_before() -> None:
    source = "paracétamol 5,000 g"
    flag = {"start": 12, "end": 19, "text_start": 12, "text_end": 19, "kind": "dose", "reason": "",
            "choices": ["5 g", "5000 g"]}
    draft = DraftMaterial(source, (), (flag,), "fr", ())
    state = WorkState()
    assert still_ambiguous(draft, state, None) == [0]
    with pytest.raises(ReviewError):
        choose_reading(draft, state, None, 0, "50 g")
    choose_reading(draft, state, None, 0, "5 g")
    assert state.blocks[0].text == "paracétamol 5 g" and 0 in state.resolved
    assert still_ambiguous(draft, state, None) == []


def test_a_doubtful_dose_typed_again_by_hand_is_no_longer_ambiguous() -> None:
    source = "paracétamol 5,000 g trois fois"
    flag = {"start": 12, "end": 19, "kind": "dose", "reason": "", "choices": ["5 g", "5000 g"]}
    draft = DraftMaterial(source, (), (flag,), "fr", ())
    state = WorkState()
    editable_blocks(draft, state, None)
    assert still_ambiguous(draft, state, None) == [0]
    take_typed_blocks(draft, state, None, [Block("body", "", "paracétamol 500 mg trois fois")])
    assert still_ambiguous(draft, state, None) == []


# --- the review screen's help: suggestions, find and replace, words linked to the audio, the lock ----------
def test_a_suggestion_replaces_only_its_word_even_when_the_flag_spans_a_comma() -> None:
    """Seen: the flag of "hydroxysine" stood on ", hydroxysine" (the comma came from "virgule")."""
    source = "kardégic virgule hydroxysine 25 mg"
    edits = (Edit(8, 16, " virgule", ",", "command"),)
    flag = {"start": 8, "end": 28, "kind": "term", "reason": "", "suggestion": "hydroxyzine",
            "code": "term-drug-unconfirmed", "params": {"word": "hydroxysine", "term": "hydroxyzine"}}
    draft = DraftMaterial(source, edits, (flag,), "fr", ())
    state = WorkState()
    assert apply_suggestion(draft, state, None, 0) == "hydroxyzine"
    assert state.blocks[0].text == "kardégic, hydroxyzine 25 mg" and 0 in state.resolved
    revert_edit(draft, state, 0, undo=False)  # the comma's own change still stands where it was
    assert state.blocks[0].text == "kardégic virgule hydroxyzine 25 mg"


def test_a_suggestion_is_refused_once_its_word_was_rewritten() -> None:
    flag = {"start": 0, "end": 5, "kind": "term", "reason": "", "suggestion": "fissures",
            "params": {"word": "Fures"}}
    draft = DraftMaterial("Fures aux genoux", (), (flag,), "fr", ())
    state = WorkState()
    editable_blocks(draft, state, None)
    take_typed_blocks(draft, state, None, [Block("body", "", "Fissures aux genoux")])
    with pytest.raises(AnchorLost):
        apply_suggestion(draft, state, None, 0)
    fresh = WorkState()
    assert apply_suggestion(draft, fresh, None, 0) == "Fissures"  # a capital at the start stays


def test_replace_acts_on_the_text_as_typing_would_and_anchors_follow() -> None:
    draft = material()
    state = WorkState()
    assert replace_text(draft, state, None, "BISOPROLOL", "nébivolol") == 1  # any case, on the text itself
    assert state.blocks[0].text == "Kardégic 75 mg, nébivolol 5 mg"
    revert_edit(draft, state, 1, undo=False)  # the "5" moved with the replacement before it
    assert state.blocks[0].text == "Kardégic 75 mg, nébivolol cinq mg"
    assert replace_text(draft, state, None, "mg", "milligrammes", at=(0, 12)) == 1  # only the one there
    assert state.blocks[0].text == "Kardégic 75 milligrammes, nébivolol cinq mg"
    with pytest.raises(ReviewError):
        replace_text(draft, state, None, "mg", "x", at=(0, 3))


def test_heard_words_keep_their_place_in_the_audio_when_corrected_by_hand() -> None:
    assert follow_loosely("vu hydroxizine ce jour", "vu hydroxyzine jour", [(3, 14), (15, 17), (18, 22)]) == [
        (3, 14), None, (15, 19)]
    words = ((0, 8, 0.0, 0.5, 0.9), (9, 11, 0.5, 0.8, 0.9), (12, 14, 0.8, 1.0, 0.3), (16, 26, 1.2, 1.9, 0.9),
             (27, 31, 2.0, 2.3, 0.9), (32, 34, 2.3, 2.5, 0.9))
    draft = DraftMaterial(SOURCE, EDITS, (), "fr", words)
    state = WorkState()
    editable_blocks(draft, state, None)
    take_typed_blocks(draft, state, None, [Block("body", "", "Kardégic 75 mg, bisoprolol 5 mg le soir")])
    blocks, _ = annotated_blocks(draft, state, None)
    pieces = {p["text"]: p for p in blocks[0]["pieces"] if p["text"].strip()}
    assert pieces["bisoprolol"]["start"] == 1.2 and pieces["5"]["start"] == 2.0 and pieces["5"]["edit"] == 1
    typed = next(p for p in blocks[0]["pieces"] if "soir" in p["text"])
    assert pieces["mg,"]["low"] and typed == {"text": " le soir"}  # typed by her: no time, one piece
    assert "".join(p["text"] for p in blocks[0]["pieces"]) == state.blocks[0].text


def test_the_lock_is_a_short_lease_taken_over_with_a_reason_and_saves_say_who(store) -> None:
    from transcribe.security.accounts import Accounts
    from transcribe.work.review_state import LOCK_S, Workspace

    anne = Accounts(store).add_user("anne", "correct horse battery", "secretary")
    bea = Accounts(store).add_user("bea", "correct horse battery", "secretary")
    job, _ = store.jobs.receive(audio_sha256="d" * 64, author="dr", original_name="a.wav", audio_path=Path("/a"))
    now = [1000.0]
    workspace = Workspace(store, clock=lambda: now[0])
    assert workspace.holder(job.id) is None and workspace.last_save(job.id) is None
    workspace.save(job.id, anne.id, WorkState())
    assert workspace.holder(job.id) == "anne" and workspace.last_save(job.id) == (1000.0, anne.id)
    with pytest.raises(LockHeld):
        workspace.lock(job.id, bea.id)
    now[0] += LOCK_S - 1
    workspace.save(job.id, anne.id, WorkState())  # each change renews the lease
    now[0] += LOCK_S - 1
    assert workspace.holder(job.id) == "anne"
    now[0] += 2  # she stopped working: the report is free again
    assert workspace.holder(job.id) is None
    workspace.lock(job.id, bea.id)
    assert workspace.take_over(job.id, anne.id) == "bea" and workspace.holder(job.id) == "anne"
    assert LOCK_S <= 5 * 60


def test_identity_evidence_and_conflicts_read_in_french() -> None:
    """Evidence and conflicts are data (a code and its parameters), written in the reader's language."""
    from datetime import date

    from transcribe.patient_record.patients import PatientRecord, identity_conflicts, rank_candidates
    from transcribe.records import DictatedIdentity, IdentityNote
    from transcribe.review.wording import identity_words

    patient = PatientRecord("100001", "Dupont", "Jean", date(1950, 3, 12), "M")
    notes = []
    for identity in (DictatedIdentity("sidecar", "100001"),
                     DictatedIdentity("dictated", None, "Dupont", "Jean", date(1950, 3, 12)),
                     DictatedIdentity("dictated", None, "Jean", "Dupont", None),
                     DictatedIdentity("filename", None, "Dupond", "Jean", date(1950, 3, 13))):
        notes += [e for c in rank_candidates(identity, [patient]) for e in c.evidence]
    notes += identity_conflicts(DictatedIdentity("sidecar", "100002", "Durand", "Marie", date(1962, 4, 3), sex="F",
                                                 age=40), patient, on=date(2026, 6, 1))
    assert len(notes) >= 9 and {"identity-sex-differs", "identity-age-differs"} <= {n.code for n in notes}
    for note in notes:
        french = identity_words(note, "fr")
        assert french != str(note), note
        assert not {"the", "name", "matches", "birth", "given"} & set(french.replace(",", " ").split()), french
        assert identity_words(note, "en") == str(note)
        assert IdentityNote.from_json(note.to_json()) == note  # as stored with the job
    assert "12/03/1950" in identity_words(notes[-3], "fr") or any("12/03/1950" in identity_words(n, "fr") for n in notes)
