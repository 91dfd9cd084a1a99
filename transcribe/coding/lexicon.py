"""What the suggester knows of a language, read from ``vocab/<lang>/codes.tsv`` and ``code-qualifiers.tsv``.

``codes.tsv``: ``system <TAB> code <TAB> expressions separated by | [<TAB> codes it yields to]``: the
expressions that name a code in reports, and, for a general code ("diabète", E14.9), the more
precise codes that, when suggested too, make it redundant (E11.9, E10.9).

``code-qualifiers.tsv``: ``qualifier <TAB> list <TAB> expression``: cues added to the lists the
field's qualifiers ship with (edsnlp's for French, NegEx's termsets for English), e.g. "évoquer" as a
verb of hypothesis. The qualifiers themselves, and their own lists, are used as shipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from transcribe.coding.records import FAMILY, HYPOTHETICAL, NEGATED, SYSTEMS
from transcribe.errors import ConfigurationError

CODES_FILE = "codes.tsv"
QUALIFIERS_FILE = "code-qualifiers.tsv"
#: the qualifiers as ``code-qualifiers.tsv`` names them
QUALIFIER_NAMES = {"negation": NEGATED, "hypothesis": HYPOTHETICAL, "family": FAMILY}


@dataclass(frozen=True)
class CodeTerm:
    """A code and the expressions that name it in reports."""

    system: str
    code: str
    expressions: tuple[str, ...]
    yields_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class CodeLexicon:
    """The expressions of the codes of one language, and the cues added to its qualifiers."""

    language: str
    terms: tuple[CodeTerm, ...]
    #: (qualifier: negated, hypothetical or family; list name; expression)
    cues: tuple[tuple[str, str, str], ...] = ()

    def cues_of(self, qualifier: str, name: str) -> list[str]:
        """The cues added to one list of one qualifier."""
        return [expression for q, n, expression in self.cues if q == qualifier and n == name]

    def yields(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """For each general code, the more precise codes that make it redundant."""
        return {(t.system, t.code): t.yields_to for t in self.terms if t.yields_to}


def load_lexicon(folder: Path, language: str) -> CodeLexicon:
    """Read the code expressions and qualifier cues of a language from a vocabulary folder."""
    codes_path = folder / language / CODES_FILE
    terms: list[CodeTerm] = []
    for number, cells in _rows(codes_path):
        if len(cells) < 3 or cells[0] not in SYSTEMS or SYSTEMS[cells[0]].language != language:
            raise ConfigurationError(
                f"{codes_path}, line {number}: expected 'system<TAB>code<TAB>expressions' with a system of "
                f"{language} ({', '.join(s for s in SYSTEMS if SYSTEMS[s].language == language)})"
            )
        expressions = tuple(e.strip() for e in cells[2].split("|") if e.strip())
        yields_to = tuple(c.strip() for c in cells[3].split(",") if c.strip()) if len(cells) > 3 else ()
        terms.append(CodeTerm(cells[0], cells[1].strip(), expressions, yields_to))
    cues: list[tuple[str, str, str]] = []
    qualifiers_path = folder / language / QUALIFIERS_FILE
    if qualifiers_path.is_file():
        for number, cells in _rows(qualifiers_path):
            if len(cells) != 3 or cells[0] not in QUALIFIER_NAMES:
                raise ConfigurationError(
                    f"{qualifiers_path}, line {number}: expected 'qualifier<TAB>list<TAB>expression' with a "
                    f"qualifier among {', '.join(QUALIFIER_NAMES)}"
                )
            cues.append((QUALIFIER_NAMES[cells[0]], cells[1], cells[2]))
    return CodeLexicon(language, tuple(terms), tuple(cues))


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as e:
        raise ConfigurationError(f"{path} not found: the vocabulary folder lacks the coding lexicon") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigurationError(f"{path} cannot be read as UTF-8 text ({e})") from e
    return [(n, line.split("\t")) for n, line in enumerate(lines, 1) if line.strip() and not line.startswith("#")]
