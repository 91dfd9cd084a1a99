"""The secretary's work on a report: undo acts on the edit's own place, readings replace the doubtful dose.

Pure tests of ``transcribe.review_state``: blocks, anchors that follow the typing, reverts and
readings. The case seen: undoing "cinq -> 5" in "Kardégic 75 mg, bisoprolol 5 mg" after typing
changed "75" into "7cinq" and showed the edit as undone.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transcribe.errors import ReviewError
from transcribe.records import Edit
from transcribe.review_state import (
    AnchorLost,
    Block,
    DraftMaterial,
    WorkState,
    choose_reading,
    current_layout,
    editable_blocks,
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
