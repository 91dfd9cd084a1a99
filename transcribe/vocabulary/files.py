"""Reading the vocabulary files under ``vocab/`` (and the site's additions) into ``Vocabulary`` records.

This is the I/O edge of the text layer: files are read here, once at start-up (and kept in a
cache keyed on every file and on this loader's code), and the pure functions of
``transcribe.text`` receive the loaded ``Vocabulary``.

Layout (see ``vocab/README.md``)::

    vocab/<lang>/commands.tsv  dictated punctuation and layout
    vocab/<lang>/units.tsv     units, written forms, plausible dose ranges
    vocab/<lang>/abbreviations.tsv, do-not-use.tsv
    vocab/<lang>/rules.toml    context words and letter names
    vocab/<lang>/drugs.tsv, terms.tsv (generated), curated.tsv, brands.tsv, dose-ranges.tsv (hand-written)
    vocab/<lang>/specialties/<specialty>.tsv                            what each specialty dictates
    vocab/drug-stems.txt       INN endings
    vocab/site/<lang>/terms.tsv, vocab/site/<lang>/abbreviations.tsv   the site's own additions
    vocab/site/authors/<author>.tsv, vocab/site/authors/learned/<author>.tsv   an author's terms
"""

from __future__ import annotations

import hashlib
import pickle
import tomllib
from collections.abc import Sequence
from pathlib import Path

from transcribe.errors import ConfigurationError
from transcribe.messages import LANGUAGES
from transcribe.vocabulary.folding import fold
from transcribe.vocabulary.records import (
    ADDED_KINDS,
    DRUG_KINDS,
    TERM_KINDS,
    AbbreviationSense,
    CommandPhrase,
    DoNotUse,
    DoseRange,
    LanguageVocabulary,
    SectionHeading,
    Term,
    Unit,
    Vocabulary,
    WorktypeOpening,
)


def vocabulary_folder(configured: Path) -> Path:
    """The site's vocabulary folder, or the copy installed with the package when the site has none.

    A folder counts only when it holds a language (``<lang>/terms.tsv``): a site whose ``vocab/`` holds
    nothing but its own additions (``vocab/site/``, created by the first accepted proposal) still reads
    the installed vocabulary.
    """
    if _holds_a_language(configured):
        return configured
    import importlib.resources

    try:
        installed = Path(str(importlib.resources.files("transcribe_vocab")))
    except ModuleNotFoundError:
        return configured
    return installed if _holds_a_language(installed) else configured


def _holds_a_language(folder: Path) -> bool:
    return folder.is_dir() and any((child / "terms.tsv").is_file() for child in folder.iterdir() if child.is_dir())


def load_vocabulary(folder: Path, *, site_folder: Path | None = None, cache_dir: Path | None = None) -> Vocabulary:
    """Read ``vocab/`` (and the site's additions) into a ``Vocabulary``.

    With ``cache_dir``, the loaded vocabulary is kept there (a private pickle named by the hash of
    every file it comes from), so that the next process starts in a fraction of the time.
    """
    site_folder = site_folder if site_folder is not None else folder / "site"
    if not folder.is_dir():
        raise ConfigurationError(
            f"vocabulary folder {folder} not found; set paths.vocab to the project's vocab/ folder"
        )
    cached = _cache_path(folder, site_folder, cache_dir) if cache_dir is not None else None
    if cached is not None and cached.is_file():
        try:
            with cached.open("rb") as stream:
                loaded = pickle.load(stream)
            if isinstance(loaded, Vocabulary):
                return loaded
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
            pass  # a damaged or outdated cache: build it again
    vocabulary = _load(folder, site_folder)
    if cached is not None:
        try:
            from transcribe.intake.atomic import write_atomic

            write_atomic(cached, pickle.dumps(vocabulary, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            pass  # no cache: only slower
    return vocabulary


def _cache_path(folder: Path, site_folder: Path, cache_dir: Path) -> Path:
    """The cache file of this exact vocabulary: every file's content, this loader's code, wordfreq's version."""
    import wordfreq

    digest = hashlib.sha256(f"{getattr(wordfreq, '__version__', '')}|{pickle.HIGHEST_PROTOCOL}".encode())
    digest.update(Path(__file__).read_bytes())  # a changed loader or record shape makes older caches unused
    digest.update((Path(__file__).parent / "records.py").read_bytes())
    digest.update((Path(__file__).parent / "folding.py").read_bytes())  # the keys terms are stored under
    for root in (folder, site_folder):
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".tsv", ".txt", ".toml")):
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return cache_dir / f"vocabulary-{digest.hexdigest()[:20]}.pickle"


def _load(folder: Path, site_folder: Path) -> Vocabulary:
    digest = hashlib.sha256()
    languages = {}
    for language in LANGUAGES:
        if (folder / language).is_dir():
            languages[language] = _load_language(folder / language, site_folder, language, digest)
    languages = _with_foreign_drugs(languages)
    authors = {}
    if (site_folder / "authors").is_dir():
        for path in sorted((site_folder / "authors").glob("*.tsv")):
            authors[path.stem] = tuple(row[0] for row in _read(path, digest))
    learned = {}
    if (site_folder / "authors" / "learned").is_dir():
        for path in sorted((site_folder / "authors" / "learned").glob("*.tsv")):
            rows = sorted(_read(path, digest), key=lambda row: -int(row[2]) if len(row) > 2 and row[2].isdigit() else 0)
            learned[path.stem] = tuple(row[0] for row in rows)
    corrections: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
    if (site_folder / "authors" / "corrections").is_dir():
        for path in sorted((site_folder / "authors" / "corrections").glob("*.tsv")):
            for row in _read(path, digest):
                if len(row) >= 3 and row[0].strip() and row[1].strip():
                    key = (path.stem, row[2].strip())
                    corrections[key] = (*corrections.get(key, ()), (row[0].strip(), row[1].strip()))
    return Vocabulary(languages, digest.hexdigest()[:12], authors, learned, corrections)


def _with_foreign_drugs(languages: dict[str, LanguageVocabulary]) -> dict[str, LanguageVocabulary]:
    """Each language learns the medicines of the others: a drug the engine heard in another
    language's spelling ("Cordarone" in English) is a drug, never a word to correct."""
    import dataclasses

    out = {}
    for language, vocab in languages.items():
        foreign = frozenset(
            key
            for other, theirs in languages.items()
            if other != language
            for key, term in theirs.terms.items()
            if term.is_drug and " " not in key and key not in vocab.terms
        )
        out[language] = dataclasses.replace(vocab, foreign_drugs=foreign)
    return out


def _read(path: Path, digest: hashlib._Hash) -> list[list[str]]:
    """The rows of a TSV file, comments and blank lines left out; the content goes into the digest."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigurationError(f"{path}: cannot be read as UTF-8 text ({e})") from e
    digest.update(path.name.encode() + b"\0" + text.encode())
    return [line.rstrip("\n").split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _words(cell: str) -> frozenset[str]:
    return frozenset(w.strip().lower() for w in cell.split(",") if w.strip())


def _load_language(folder: Path, site: Path, language: str, digest: hashlib._Hash) -> LanguageVocabulary:
    rules = _rules(folder / "rules.toml", digest)
    commands = tuple(
        CommandPhrase(
            tuple(row[0].lower().split()),
            row[1],
            _words(row[2]) if len(row) > 2 else frozenset(),
            _words(row[3]) if len(row) > 3 else frozenset(),
        )
        for row in _read(folder / "commands.tsv", digest)
    )
    units = tuple(
        Unit(
            tuple(s.strip().lower() for s in row[0].split(",")),
            row[1],
            float(row[2]) if len(row) > 2 and row[2] else None,
            float(row[3]) if len(row) > 3 and row[3] else None,
        )
        for row in _read(folder / "units.tsv", digest)
    )
    senses: dict[str, list[AbbreviationSense]] = {}
    for path in (folder / "abbreviations.tsv", site / language / "abbreviations.tsv"):
        for row in _read(path, digest):
            if len(row) >= 2:
                senses.setdefault(row[0], []).append(
                    AbbreviationSense(row[0], row[1], _words(row[2]) if len(row) > 2 else frozenset())
                )
    known = set(senses)
    known |= {row[0] for row in _read(folder / "known-abbreviations.txt", digest)}

    terms: dict[str, Term] = {}
    # later files win: curated spellings (accents) over generated ones, the site's over both
    brand_generics: dict[str, tuple[str, ...]] = {}
    generics: dict[str, str] = {}
    for row in _read(folder / "brands.tsv", digest):
        if len(row) >= 3:
            names = [g.strip() for g in row[2].split("+") if g.strip()]
            brand_generics[fold(row[0])] = tuple(fold(g) for g in names)
            generics.update({fold(g): g for g in names})
    for path, default_kind in (
        (folder / "terms.tsv", "term"),
        (folder / "drugs.tsv", "drug"),
        (folder / "brands.tsv", "brand"),
        (folder / "curated.tsv", "term"),
        (site / language / "terms.tsv", "term"),
    ):
        for row in _read(path, digest):
            kind = row[1] if len(row) > 1 and row[1] in TERM_KINDS else default_kind
            if path.name == "drugs.tsv" and kind == "term":
                kind = "drug"
            kind = "brand" if kind == "brand" else "drug" if kind in DRUG_KINDS else kind
            text = row[0].title() if kind == "brand" and row[0].islower() else row[0]
            if path.name == "drugs.tsv" and fold(row[0]) in brand_generics:
                continue  # the brands file spells it as it is written (Eliquis, OxyContin)
            terms[fold(row[0])] = Term(text, kind, path.parent.name + "/" + path.name)
    for key, generic in generics.items():  # the generic names of the brands are medicines too
        terms.setdefault(key, Term(generic, "drug", f"{language}/brands.tsv"))
    authors = site / "authors"
    if authors.is_dir():
        for path in sorted(authors.glob("*.tsv")):
            for row in _read(path, digest):
                kind = row[1] if len(row) > 1 and (row[1] in DRUG_KINDS or row[1] in ADDED_KINDS) else "term"
                terms.setdefault(
                    fold(row[0]), Term(row[0], "drug" if kind in DRUG_KINDS else kind, f"authors/{path.name}")
                )
    return LanguageVocabulary(
        language=language,
        commands=commands,
        units=units,
        abbreviations={k: tuple(v) for k, v in senses.items()},
        known_abbreviations=frozenset(known),
        terms=terms,
        ordinary_words=_ordinary_words(language, terms),
        letters={k: tuple(v) for k, v in rules.get("letters", {}).items()},
        blood_pressure_words=frozenset(rules.get("blood_pressure", ())),
        temperature_words=frozenset(rules.get("temperature", ())),
        score_words=frozenset(rules.get("score", ())),
        counted_words=frozenset(rules.get("counted", ())),
        numbered_words=frozenset(rules.get("numbered", ())),
        ambiguous_numbers=frozenset(rules.get("ambiguous_numbers", ())),
        decimal_separator=rules.get("decimal_separator", "."),
        unit_space=rules.get("unit_space", " "),
        sections=tuple(
            SectionHeading(row[0], row[1], tuple(w.strip().lower() for w in row[2].split(",") if w.strip()))
            for row in _read(folder / "sections.tsv", digest)
            if len(row) >= 3
        ),
        worktypes=tuple(
            WorktypeOpening(row[0], row[1], tuple(w.strip() for w in row[2].split(",") if w.strip()))
            for row in _read(folder / "worktypes.tsv", digest)
            if len(row) >= 3
        ),
        hallucinations=tuple(row[0].strip() for row in _read(folder / "hallucinations.txt", digest) if row[0].strip()),
        corrections=tuple(
            (row[0].strip(), row[1].strip())
            for path in (folder / "corrections.tsv", site / language / "corrections.tsv")
            for row in _read(path, digest)
            if len(row) >= 2 and row[0].strip() and row[1].strip()
        ),
        drug_stems=tuple(row[0].strip() for row in _read(folder.parent / "drug-stems.txt", digest) if row[0].strip()),
        lookalike_drugs=frozenset(
            frozenset((fold(row[0]), fold(row[1])))
            for row in _read(folder.parent / "lookalike-drugs.tsv", digest)
            if len(row) >= 2 and row[0].strip() and row[1].strip()
        ),
        brand_generics=brand_generics,
        dose_ranges={
            fold(row[0]): DoseRange(row[1], float(row[2]), float(row[3]))
            for row in _read(folder / "dose-ranges.tsv", digest)
            if len(row) >= 4
        },
        do_not_use={
            row[0]: DoNotUse(
                row[0], row[1], row[2] if len(row) > 2 else "", _words(row[3]) if len(row) > 3 else frozenset()
            )
            for row in _read(folder / "do-not-use.tsv", digest)
            if len(row) >= 2
        },
        drug_context_words=frozenset(rules.get("drug_context", ())),
        rate_words=frozenset(rules.get("rate", ())),
        year_words=frozenset(rules.get("year", ())),
        per_day_words=tuple(rules.get("per_day", ())),
        times_per_day={str(k): int(v) for k, v in rules.get("times_per_day", {}).items()},
        specialty_terms={
            path.stem: tuple(row[0] for row in _read(path, digest) if row[0].strip())
            for path in sorted((folder / "specialties").glob("*.tsv"))
        },
    )


def _rules(path: Path, digest: hashlib._Hash) -> dict:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    digest.update(data)
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigurationError(f"{path}: not valid TOML ({e})") from e


def _ordinary_words(language: str, terms: dict[str, Term]) -> frozenset[str]:
    """The common words of the language (wordfreq's 200,000 most frequent), medical terms left out.

    200,000 keeps rarer real words ("cardiologique") out of the correction's reach, while
    the engine's misspellings ("ferrosémie", "miocard") have no frequency at all.
    """
    import wordfreq

    return frozenset(w for w in wordfreq.top_n_list(language, 200_000) if fold(w) not in terms or len(w) <= 3)


def append_site_rows(path: Path, rows: Sequence[tuple[str, ...]]) -> None:
    """Add rows to a site vocabulary file (``vocab/site/<lang>/terms.tsv``...), written atomically."""
    from transcribe.intake.atomic import write_atomic

    for row in rows:
        if any("\t" in cell or "\n" in cell for cell in row):
            raise ConfigurationError("a vocabulary entry cannot hold a tab or a line break")
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    if existing and not existing.endswith("\n"):
        existing += "\n"
    write_atomic(path, (existing + "".join("\t".join(row) + "\n" for row in rows)).encode())
