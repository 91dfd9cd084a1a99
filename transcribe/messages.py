"""The words the pipeline says to people, as codes with parameters, in French and English.

A flag, a state or an error is a code plus parameters (``Flag.code``, ``Flag.params``); the
doors render it in the reader's language with ``message(code, language, **params)``. The
English text stored with a flag (``Flag.reason``) is rendered from the same entry, so the
two never disagree. A code missing from the catalogue renders as its English fallback.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from typing import Any

#: the languages the pipeline understands, writes reports in and speaks to people in: one list for every stage
LANGUAGES = ("fr", "en")


class Catalogue(Mapping[str, Mapping[str, str]]):
    """Words a person reads, by key: each key's text in the languages of ``LANGUAGES``.

    The one mechanism for every word the pipeline shows or writes: the flags, states and identity
    evidence here, the worktypes (``documents.worktypes``), the specialties (``vocabulary.specialties``),
    the report's own words (``documents.report``) and the review app's screens (``review.i18n``).
    ``say`` gives a key's text in the reader's language (English where that language lacks it), its
    ``{parameters}`` filled in; a parameter not given stays as written.
    """

    def __init__(self, entries: Mapping[str, Mapping[str, str]]) -> None:
        self._entries = {key: dict(texts) for key, texts in entries.items()}

    @classmethod
    def by_language(cls, tables: Mapping[str, Mapping[str, str]]) -> Catalogue:
        """A catalogue written as one table per language (``{"fr": {key: text}, "en": {...}}``)."""
        keys = dict.fromkeys(key for table in tables.values() for key in table)
        return cls({key: {lang: table[key] for lang, table in tables.items() if key in table} for key in keys})

    def __getitem__(self, key: str) -> Mapping[str, str]:
        return self._entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def say(self, key: str, reader: str, fallback: str | None = None, /, **params: Any) -> str:
        """The key's text for a reader of this language; ``fallback`` (else the key) when the key is unknown."""
        entry = self._entries.get(key)
        if entry is None:
            return key if fallback is None else fallback
        template = entry.get(reader) or entry["en"]
        try:
            return string.Formatter().vformat(template, (), _Blank(params))
        except (ValueError, IndexError):  # a brace that is no parameter: the text as written
            return template


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


#: flags of the text layer and of the worker
FLAGS = Catalogue(
    {
        # doses and values
        "dose-out-of-range": {
            "en": "{value} {unit} is outside the plausible range for {unit} ({minimum} to {maximum}): check it against the audio",
            "fr": "{value} {unit} est hors de la plage plausible pour {unit} ({minimum} à {maximum}) : vérifiez avec l'enregistrement",
        },
        "dose-thousands": {
            "en": "{value} {unit} can be read as {whole} or as {whole} 000: the engine often hears 'milli' as 'mille' "
            "(thousand); choose the reading that was dictated",
            "fr": "{value} {unit} peut se lire {whole} ou {whole} 000 : le moteur entend souvent « milli » comme « mille » ; "
            "choisissez la lecture dictée",
        },
        "dose-malformed-number": {
            "en": "'{value} {unit}' is not a number anyone can read (digits and marks that make no number): listen, "
            "and write the dose that was dictated",
            "fr": "« {value} {unit} » n'est pas un nombre lisible (des chiffres et des signes qui ne font pas un nombre) : "
            "écoutez, et écrivez la dose dictée",
        },
        "dose-above-drug-maximum-per-take": {
            "en": "{drug} {dose} is above the highest usual adult dose of {drug} ({highest} per take): check it against "
            "the audio",
            "fr": "{drug} {dose} dépasse la dose adulte usuelle maximale de {drug} ({highest} par prise) : vérifiez avec "
            "l'enregistrement",
        },
        "dose-above-drug-maximum-per-day": {
            "en": "{drug} {dose} is above the highest usual adult dose of {drug} ({highest} per day): check it against "
            "the audio",
            "fr": "{drug} {dose} dépasse la dose adulte usuelle maximale de {drug} ({highest} par jour) : vérifiez avec "
            "l'enregistrement",
        },
        # terms
        "term-unknown-word": {
            "en": "'{word}' is not a known word; perhaps '{term}'",
            "fr": "« {word} » n'est pas un mot connu ; peut-être « {term} »",
        },
        "term-lookalike-drugs": {
            "en": "'{word}' sounds like several drugs ({names}): check which one was said",
            "fr": "« {word} » ressemble à plusieurs médicaments ({names}) : vérifiez lequel a été dicté",
        },
        "term-heard-clearly": {
            "en": "'{word}' may be '{term}', but the engine heard '{word}' clearly ({confidence}); it was kept: check it "
            "against the audio",
            "fr": "« {word} » est peut-être « {term} », mais le moteur a bien entendu « {word} » ({confidence}) ; le mot a "
            "été gardé : vérifiez avec l'enregistrement",
        },
        "term-no-audio": {
            "en": "'{word}' may be '{term}', but there is no audio to confirm it; it was kept: check it",
            "fr": "« {word} » est peut-être « {term} », mais aucun enregistrement ne le confirme ; le mot a été gardé : "
            "vérifiez",
        },
        "term-drug-unconfirmed": {
            "en": "'{word}' may be the medicine '{term}': a medicine is never written on the text alone; listen, and "
            "apply the suggestion if it was said",
            "fr": "« {word} » est peut-être le médicament « {term} » : un médicament n'est jamais écrit sur le seul "
            "texte ; écoutez, et appliquez la suggestion si c'est bien lui",
        },
        "term-drug-place": {
            "en": "'{word}' stands where a medicine is named; it was kept (perhaps '{term}'): check it against the audio",
            "fr": "« {word} » est à la place d'un nom de médicament ; il a été gardé (peut-être « {term} ») : vérifiez "
            "avec l'enregistrement",
        },
        "term-unlisted-drug": {
            "en": "'{word}' looks like the name of a medicine the lexicon does not list; it was kept as heard "
            "(close to '{term}'): check it against the audio",
            "fr": "« {word} » ressemble à un nom de médicament absent du lexique ; il a été gardé tel qu'entendu "
            "(proche de « {term} ») : vérifiez avec l'enregistrement",
        },
        "term-doubtful-word": {
            "en": "'{word}' was heard with low confidence; perhaps '{term}'",
            "fr": "« {word} » a été mal entendu ; peut-être « {term} »",
        },
        "term-audio-choices": {
            "en": "'{word}' may be misheard; by the audio, perhaps {choices} (best first): choose one, or keep it if it "
            "was said",
            "fr": "« {word} » est peut-être mal entendu ; d'après l'enregistrement, peut-être {choices} (le plus "
            "probable d'abord) : choisissez, ou gardez-le s'il a été dit",
        },
        # terms of the biasing list
        "list-term-reverted": {
            "en": "'{term}' was written from the words the engine was told to expect, but the audio does not hold it; "
            "written as the engine hears it without them ('{heard}'): listen, and choose '{term}' if it was said",
            "fr": "« {term} » a été écrit d'après les mots attendus par le moteur, mais l'enregistrement ne le confirme "
            "pas ; écrit comme le moteur l'entend sans eux (« {heard} ») : écoutez, et choisissez « {term} » s'il a "
            "été dit",
        },
        "list-term-doubted": {
            "en": "'{term}' was written from the words the engine was told to expect, with low confidence; without them "
            "the engine hears '{heard}': check it was really said",
            "fr": "« {term} » a été écrit d'après les mots attendus par le moteur, avec peu d'assurance ; sans eux le "
            "moteur entend « {heard} » : vérifiez qu'il a bien été dit",
        },
        # abbreviations
        "abbreviation-ambiguous": {
            "en": "{abbreviation} may mean {meanings}: check which",
            "fr": "{abbreviation} peut vouloir dire {meanings} : vérifiez",
        },
        "abbreviation-spelled": {
            "en": "'{spoken}' may be the abbreviation {abbreviation} spelled out: check it",
            "fr": "« {spoken} » est peut-être l'abréviation {abbreviation} épelée : vérifiez",
        },
        "abbreviation-do-not-use": {
            "en": "{abbreviation} must not be used in a medical record ({why}): write '{instead}'",
            "fr": "{abbreviation} ne doit pas être écrit dans un dossier médical ({why}) : écrivez « {instead} »",
        },
        # what the engine wrote without hearing it
        "hallucination-silence": {
            "en": "the engine heard no speech here (no-speech {no_speech}); the text was removed: listen, and undo if "
            "it was dictated",
            "fr": "le moteur n'a pas entendu de parole ici (silence {no_speech}) ; le texte a été retiré : écoutez, et "
            "annulez si c'était dicté",
        },
        "hallucination-repeated-passage": {
            "en": "the engine heard no speech here (no-speech {no_speech}) and wrote again an earlier passage; it was "
            "removed: listen, and undo if it was dictated",
            "fr": "le moteur n'a pas entendu de parole ici (silence {no_speech}) et a réécrit un passage précédent ; il a "
            "été retiré : écoutez, et annulez si c'était dicté",
        },
        "hallucination-loop-segment": {
            "en": "the engine repeated itself here (compression ratio {ratio}); the passage was removed: listen, and "
            "undo if it was dictated",
            "fr": "le moteur s'est répété ici (taux de compression {ratio}) ; le passage a été retiré : écoutez, et "
            "annulez si c'était dicté",
        },
        "hallucination-unplaced": {
            "en": "the engine placed {unplaced} of these {words} words on no audio; the passage was removed: "
            "listen, and undo if it was dictated",
            "fr": "le moteur n'a placé {unplaced} de ces {words} mots sur aucun son ; le passage a été retiré : "
            "écoutez, et annulez s'il était dicté",
        },
        "hallucination-unplaced-repeat": {
            "en": "'{word}' came again right after itself, placed on no audio; the repeat was removed: listen, and "
            "undo if it was said twice",
            "fr": "« {word} » est revenu juste après lui-même, placé sur aucun son ; la répétition a été retirée : "
            "écoutez, et annulez s'il a été dit deux fois",
        },
        "hallucination-phrase": {
            "en": "'{phrase}' is a phrase the engine writes on silence or music (subtitle credits); it was removed",
            "fr": "« {phrase} » est une phrase que le moteur écrit sur du silence ou de la musique (sous-titres) ; "
            "elle a été retirée",
        },
        "hallucination-loop": {
            "en": "the same {size} words came {repeats} times in a row (an engine loop); the repeats were removed: "
            "listen, and undo if they were dictated",
            "fr": "les mêmes {size} mots sont venus {repeats} fois de suite (une boucle du moteur) ; les répétitions ont "
            "été retirées : écoutez, et annulez si c'était dicté",
        },
        # words given to the engine
        "prompt-copy-low-confidence": {
            "en": "'{term}' is one of the terms given to the engine and was heard with low confidence ({confidence}): "
            "check it was really said",
            "fr": "« {term} » fait partie des mots donnés au moteur et a été mal entendu ({confidence}) : vérifiez qu'il "
            "a bien été dit",
        },
        "prompt-copy-in-run": {
            "en": "'{term}' stands in a list of the terms given to the engine, in their order: check it was really said",
            "fr": "« {term} » se trouve dans une suite des mots donnés au moteur, dans leur ordre : vérifiez qu'il a "
            "bien été dit",
        },
        # the language of the dictation
        "language-unsure": {
            "en": "the engine was unsure of the language (it heard {detected}, {probability}): check the text against "
            "the audio",
            "fr": "le moteur n'était pas sûr de la langue (il a entendu du {detected}, {probability}) : vérifiez le texte "
            "avec l'enregistrement",
        },
        "language-transcribed-again": {
            "en": "the engine heard {detected} ({probability}); the dictation was transcribed in {language}: check the "
            "text against the audio",
            "fr": "le moteur a entendu du {detected} ({probability}) ; la dictée a été transcrite en {language} : "
            "vérifiez le texte avec l'enregistrement",
        },
    }
)

#: identity evidence and conflicts (``records.IdentityNote``); ``{source}`` is where the identity came from
#: (``IDENTITY_SOURCES``), ``{Source}`` the same with a capital, ``*_sex`` a sex (``SEXES``), ``*_date`` a date
IDENTITY = Catalogue(
    {
        "identity-id-given": {"en": "identifier {id} given by {source}", "fr": "identifiant {id} donné par {source}"},
        "identity-name-matches": {"en": "name matches", "fr": "le nom correspond"},
        "identity-name-inverted": {
            "en": "name matches with family and given names inverted",
            "fr": "le nom correspond, nom et prénom inversés",
        },
        "identity-name-close": {"en": "name close ({score}%)", "fr": "nom proche ({score} %)"},
        "identity-birth-date-matches": {
            "en": "birth date matches ({date})",
            "fr": "la date de naissance correspond ({date})",
        },
        "identity-birth-date-unlike": {
            "en": "birth date differs: given {given_date}, index {chosen_date}",
            "fr": "la date de naissance diffère : donnée {given_date}, index {chosen_date}",
        },
        "identity-id-differs": {
            "en": "{source} names patient {given_id}, not {chosen_id}",
            "fr": "{Source} désigne le patient {given_id}, pas {chosen_id}",
        },
        "identity-birth-date-differs": {
            "en": "{source} gives the birth date {given_date}, the patient's is {chosen_date}",
            "fr": "{Source} donne la date de naissance {given_date}, celle du patient est {chosen_date}",
        },
        "identity-name-differs": {
            "en": "{source} names {names}, the patient is {patient}",
            "fr": "{Source} nomme {names}, le patient est {patient}",
        },
        "identity-sex-differs": {
            "en": "{source} speaks of {given_sex}, the patient's record says {chosen_sex}",
            "fr": "{Source} parle d'{given_sex}, la fiche du patient dit : {chosen_sex}",
        },
        # evidence an older version stored as a sentence that no code stands for (``store/schema.py``, migration 12)
        "identity-as-written": {"en": "{text}", "fr": "{text}"},
        "identity-age-differs": {
            "en": "{source} gives {given_age} years of age, the patient is {chosen_age}",
            "fr": "{Source} donne {given_age} ans, le patient a {chosen_age} ans",
        },
    }
)

IDENTITY_SOURCES = Catalogue.by_language(
    {
        "fr": {"sidecar": "la fiche jointe", "filename": "le nom du fichier", "dictated": "la dictée"},
        "en": {"sidecar": "the sidecar file", "filename": "the file name", "dictated": "the dictation"},
    }
)

SEXES = Catalogue.by_language(
    {
        "fr": {"M": "un homme", "F": "une femme"},
        "en": {"M": "a man", "F": "a woman"},
    }
)


def identity_message(code: str, reader: str, /, **params: Any) -> str:
    """An identity evidence or conflict in the reader's language (dates as given: the doors format them)."""
    named = dict(params)
    if "source" in named:
        source = IDENTITY_SOURCES.say(str(named["source"]), reader)
        named["source"], named["Source"] = source, source[:1].upper() + source[1:]
    for key in [k for k in named if k.endswith("_sex")]:
        named[key] = SEXES.say(str(named[key]), reader)
    return IDENTITY.say(code, reader, code, **named)


#: the states of a job (``records.JobState``) as people read them
STATES = Catalogue.by_language(
    {
        "fr": {
            "received": "Reçue",
            "queued": "En attente de transcription",
            "transcribing": "En transcription",
            "drafted": "À relire",
            "returned": "Renvoyée à l'auteur",
            "validated": "Validée",
            "filed": "Classée",
            "quarantined": "En quarantaine",
        },
        "en": {
            "received": "Received",
            "queued": "Waiting for transcription",
            "transcribing": "Being transcribed",
            "drafted": "To review",
            "returned": "Returned to the author",
            "validated": "Validated",
            "filed": "Filed",
            "quarantined": "Quarantined",
        },
    }
)


def state_label(state: str, reader: str) -> str:
    """A job's state in the reader's language ("À relire" for "drafted")."""
    return STATES.say(str(state), reader)


#: parameters that hold a language code: written as the language's name in the reader's language
_LANGUAGE_PARAMETERS = ("detected", "language")

LANGUAGE_NAMES = Catalogue.by_language(
    {
        "fr": {
            "fr": "français",
            "en": "anglais",
            "es": "espagnol",
            "it": "italien",
            "de": "allemand",
            "pt": "portugais",
            "nl": "néerlandais",
            "ca": "catalan",
            "ar": "arabe",
        },
        "en": {
            "fr": "French",
            "en": "English",
            "es": "Spanish",
            "it": "Italian",
            "de": "German",
            "pt": "Portuguese",
            "nl": "Dutch",
            "ca": "Catalan",
            "ar": "Arabic",
        },
    }
)


def message(code: str, reader: str, fallback: str = "", /, **params: Any) -> str:
    """A flag's text in the reader's language, its parameters filled in; the fallback when the code is unknown."""
    named = {k: language_name(str(v), reader) if k in _LANGUAGE_PARAMETERS else v for k, v in params.items()}
    return FLAGS.say(code, reader, fallback or code, **named)


def language_name(code: str, language: str) -> str:
    """A language's name in the reader's language ("French", "français")."""
    return LANGUAGE_NAMES.say(code, language)


def percent(value: float) -> str:
    """A probability as the messages show it ("45%")."""
    return f"{value:.0%}"
