"""Biasing the engine towards an author's vocabulary: the initial prompt, and how it is chosen.

Whisper reads ``initial_prompt`` as if it were the text just before the
dictation, so medical words it contains are far more likely to be spelt right.
Only about thirty terms fit (the prompt is cut at about 220 tokens), and on poor
audio the engine may *copy* the prompt into the transcript: a run of drug names
never spoken. So the terms are chosen per author (what this author really
dictates: ``vocab/site/authors/<author>.tsv``), and the text layer flags words
that look copied (see ``transcribe.text.prompt_copies``).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Whisper keeps at most half its 448-token context for the prompt; stay well inside it.
MAX_PROMPT_CHARACTERS = 600
MAX_PROMPT_TERMS = 30

_LEAD = {"fr": "Termes médicaux : ", "en": "Medical terms: "}


@dataclass(frozen=True)
class Prompt:
    """The prompt given to the engine and the terms it lists, in order."""

    text: str
    terms: tuple[str, ...]


def build_prompt(terms: list[str] | tuple[str, ...], language: str | None) -> Prompt | None:
    """A prompt listing the author's terms (most important first), or None when there are none."""
    lead = _LEAD.get(language or "", _LEAD["en"])
    chosen: list[str] = []
    length = len(lead)
    for term in terms:
        term = term.strip()
        if not term or term in chosen:
            continue
        if len(chosen) >= MAX_PROMPT_TERMS or length + len(term) + 2 > MAX_PROMPT_CHARACTERS:
            break
        chosen.append(term)
        length += len(term) + 2
    if not chosen:
        return None
    return Prompt(lead + ", ".join(chosen) + ".", tuple(chosen))
