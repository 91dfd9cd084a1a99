"""Words the engine may have copied from its prompt instead of hearing them.

With an initial prompt listing an author's terms, poor audio can make the
engine write prompt terms that were never said, often several in the prompt's
order. A prompt term in the transcript is flagged when it was heard with low
confidence, or when it stands in a run of prompt terms in prompt order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from transcribe.messages import message, percent
from transcribe.text.tokens import SourceText
from transcribe.vocabulary.folding import fold, fold_with_map

LOW_CONFIDENCE = 0.5
_SEPARATORS = re.compile(r"^[\s,;.:]*(?:(?:et|and|puis|then|ou|or)[\s,;.:]*)?$", re.IGNORECASE)


@dataclass(frozen=True)
class PromptCopy:
    """A prompt term found in the source text that a person must check."""

    start: int
    end: int
    term: str
    code: str
    params: dict[str, str]

    @property
    def reason(self) -> str:
        """Why it looks copied, in English."""
        return message(self.code, "en", **self.params)


def find_prompt_copies(source: SourceText, prompt_terms: tuple[str, ...]) -> list[PromptCopy]:
    """Prompt terms in the transcript that look copied rather than heard."""
    if not prompt_terms or not source.text:
        return []
    folded = fold_with_map(source.text)  # matched on the folded copy, placed on the text through its map
    found: list[tuple[int, int, int, str]] = []  # start, end, order in the prompt, term
    for order, term in enumerate(prompt_terms):
        pattern = re.compile(r"(?<!\w)" + re.escape(fold(term)) + r"(?!\w)")
        found += [(*folded.original(m.start(), m.end()), order, term) for m in pattern.finditer(folded.text)]
    found.sort()
    copies: list[PromptCopy] = []
    for index, (start, end, _order, term) in enumerate(found):
        confidence = source.probability_at(start, end)
        in_run = any(
            _adjacent(source.text, a, b) and a[2] < b[2]
            for a, b in (
                (found[index - 1], found[index]) if index else (None, None),
                (found[index], found[index + 1]) if index + 1 < len(found) else (None, None),
            )
            if a is not None and b is not None
        )
        if confidence < LOW_CONFIDENCE:
            code, params = "prompt-copy-low-confidence", {"term": term, "confidence": percent(confidence)}
        elif in_run:
            code, params = "prompt-copy-in-run", {"term": term}
        else:
            continue
        copies.append(PromptCopy(start, end, term, code, params))
    return copies


def _adjacent(text: str, first: tuple[int, int, int, str], second: tuple[int, int, int, str]) -> bool:
    return first[1] <= second[0] and bool(_SEPARATORS.match(text[first[1] : second[0]]))
