"""Dictated punctuation and layout: "virgule", "point à la ligne", "new paragraph", "open bracket".

Commands are found with a spaCy ``Matcher`` on the blank language tokenizer,
tolerating the punctuation Whisper adds around them ("Point.", "virgule,").
A command replaces everything between the word before it and the word after it,
so the engine's own marks there are not doubled. A phrase is left as words when
its neighbours say it is meant literally ("au point de vue", "the sigmoid colon").
"""

from __future__ import annotations

from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Token
from spacy.util import filter_spans

from transcribe.text.rewriting import Replacement
from transcribe.vocabulary.records import CommandPhrase

RULE = "command"

_SYMBOLS = {
    "comma": ",",
    "period": ".",
    "colon": ":",
    "semicolon": ";",
    "question": "?",
    "exclamation": "!",
    "ellipsis": "…",
}
_SPACED_IN_FRENCH = {"colon", "semicolon", "question", "exclamation"}
_SENTENCE_END = (".", "?", "!", "…")
_LAYOUT = {"newline": "\n", "period-newline": "\n", "paragraph": "\n\n"}


@dataclass(frozen=True)
class _Match:
    first: int  # token indexes in the doc
    last: int
    phrase: CommandPhrase


class CommandFinder:
    """Finds dictated commands in a text and proposes their replacement by marks and layout."""

    def __init__(
        self, nlp: Language, commands: tuple[CommandPhrase, ...], *, language: str, score_words: frozenset[str]
    ) -> None:
        self._nlp = nlp
        self._language = language
        self._score_words = score_words
        self._phrases: dict[str, CommandPhrase] = {}
        self._matcher = Matcher(nlp.vocab)
        for number, phrase in enumerate(commands):
            words = [
                w
                for word in phrase.words  # an elided article ("l'") stays one token, as in running text
                for w in (
                    [word] if word.startswith("~") or word.endswith("'") else [t.lower_ for t in nlp.make_doc(word)]
                )
            ]
            pattern: list[dict[str, object]] = []
            for position, word in enumerate(words):
                if position:  # the engine may put a comma inside a command, not a sentence end
                    pattern.append({"ORTH": {"IN": [",", ";"]}, "OP": "*"})
                if word.startswith("~") and len(word) > 1:  # "~align(?:e|é)$" in the table: a word so written
                    pattern.append({"LOWER": {"REGEX": "^" + word[1:]}})
                elif "'" in word:  # the engine writes either apostrophe
                    pattern.append({"LOWER": {"IN": [word, word.replace("'", "’")]}})
                else:
                    pattern.append({"LOWER": word})
            key = f"command-{number}"
            self._phrases[key] = phrase
            self._matcher.add(key, [pattern])

    def find(self, text: str) -> list[Replacement]:
        """Replacements that turn the dictated commands of ``text`` into marks and line breaks."""
        doc = self._nlp.make_doc(text)
        found = self._matcher(doc)
        spans = filter_spans([doc[start:end] for _, start, end in found])
        keys = {(start, end): self._nlp.vocab.strings[match_id] for match_id, start, end in found}
        matches = [
            _Match(span.start, span.end - 1, self._phrases[keys[(span.start, span.end)]])
            for span in sorted(spans, key=lambda s: s.start)
        ]
        matches = [m for m in matches if not self._is_literal(doc, m)]
        return [self._replacement(doc, text, group) for group in _groups(doc, matches)]

    def _is_literal(self, doc: Doc, match: _Match) -> bool:
        before = _word_before(doc, match.first)
        after = _word_after(doc, match.last)
        phrase = match.phrase
        if before is None and phrase.mark in _SYMBOLS:
            return True  # a mark cannot open the text: "Points à revoir", "Comma-separated"
        if before is not None and doc[before].lower_ in phrase.literal_after:
            return True
        if after is not None and doc[after].lower_ in phrase.literal_before:
            return True
        if phrase.mark in ("colon", "period") and phrase.words[-1] == "points":
            window = {t.lower_ for t in doc[max(0, match.first - 6) : match.first]}
            if window & self._score_words:
                return True  # "Glasgow à 15 points": a score, not a mark
        return False

    def _replacement(self, doc: Doc, text: str, group: list[_Match]) -> Replacement:
        before = _word_before(doc, group[0].first)
        after = _word_after(doc, group[-1].last)
        start = doc[before].idx + len(doc[before].text) if before is not None else 0
        end = doc[after].idx if after is not None else len(text)
        marks = [m.phrase.mark for m in group]
        kept = ""
        if before is not None and marks[0] not in _SYMBOLS:
            # a layout command does not replace the engine's own punctuation before it
            kept = "".join(t.text for t in doc[before + 1 : group[0].first] if t.text in ".?!…,;:")[:1]
        rendered = render_marks(
            marks, self._language, has_before=before is not None, has_after=after is not None, kept=kept
        )
        return Replacement(start, end, rendered, RULE, 0.9)


_ENGINE_MARKS = frozenset(".,;:!?…")


def _is_mark(token: Token) -> bool:
    """Sentence punctuation the engine may have put around a command (not %, ), °...)."""
    return token.text in _ENGINE_MARKS or (token.is_punct and set(token.text) <= _ENGINE_MARKS)


def _word_before(doc: Doc, index: int) -> int | None:
    i = index - 1
    while i >= 0 and _is_mark(doc[i]):
        i -= 1
    return i if i >= 0 else None


def _word_after(doc: Doc, index: int) -> int | None:
    i = index + 1
    while i < len(doc) and _is_mark(doc[i]):
        i += 1
    return i if i < len(doc) else None


def _groups(doc: Doc, matches: list[_Match]) -> list[list[_Match]]:
    """Commands with nothing but punctuation between them form one group ("point à la ligne nouveau paragraphe")."""
    groups: list[list[_Match]] = []
    for match in matches:
        if groups:
            previous = groups[-1][-1]
            between = doc[previous.last + 1 : match.first]
            if all(_is_mark(t) for t in between):
                groups[-1].append(match)
                continue
        groups.append([match])
    return groups


def render_marks(marks: list[str], language: str, *, has_before: bool, has_after: bool, kept: str = "") -> str:
    """The text that replaces a run of commands between two words (``kept``: the engine's mark before it)."""
    out = kept
    for mark in marks:
        started = has_before or bool(out.strip())
        if mark in _SYMBOLS:
            if not started:
                continue  # no punctuation before the first word
            out = out.rstrip(" ")
            while out and out[-1] in ",;:" and not out.endswith("\n"):
                out = out[:-1].rstrip(" ")  # a stronger mark replaces a weaker one
            if out.endswith(_SENTENCE_END) and _SYMBOLS[mark] in ",;:.":
                out += " "
                continue
            space = " " if language == "fr" and mark in _SPACED_IN_FRENCH else ""
            out += space + _SYMBOLS[mark] + " "
        elif mark in _LAYOUT:
            if not started:
                continue  # no empty lines before the first word
            out = out.rstrip(" ")
            if mark == "period-newline" and not out.rstrip("\n").endswith((*_SENTENCE_END, ":")):
                out = out.rstrip("\n") + "." + out[len(out.rstrip("\n")) :]
            wanted = _LAYOUT[mark]
            existing = len(out) - len(out.rstrip("\n"))
            if existing < len(wanted):
                out = out.rstrip("\n") + wanted
        elif mark == "open-paren":
            out = out.rstrip(" ") + (" (" if started else "(")
        elif mark == "close-paren":
            out = out.rstrip(" ") + ") "
        elif mark == "open-quote":
            opening = "« " if language == "fr" else '"'
            out = out.rstrip(" ") + (" " if started and not out.endswith("\n") else "") + opening
        elif mark == "close-quote":
            out = out.rstrip(" ") + (" »" if language == "fr" else '"') + " "
        elif mark == "dash":
            if not started or out.endswith("\n"):
                out += "- "
            else:
                out = out.rstrip(" ") + " - "
    if not has_after:
        return out.rstrip(" \n")
    if has_before and out == "":
        return " "
    if out and not out.endswith((" ", "\n", "(", "« ", '"')):
        out += " "
    if not has_before:
        out = out.lstrip(" ")
    return out
