"""Patient identification: the patient index, the identity a dictation gives, and how they match.

Pure functions; the index itself lives in the job store. A dictation's identity
comes, in this order, from its sidecar file, its file name, or its dictated
opening ("patient Jean Dupont né le 12 mars 1950"). It is matched against the
index allowing for accents, case, hyphenated and compound names, family and
given names in either order, and misheard letters; the birth date weighs most.
Every candidate comes with its evidence, for the secretary to judge. The sex and age a
dictation gives ("Monsieur de 68 ans") are compared with the chosen patient too.

Evidence and conflicts are data (``IdentityNote``: a code of ``messages.IDENTITY`` and its
parameters), written in the reader's language by the doors; ``str()`` gives the English.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz

from transcribe.records import DictatedIdentity, IdentityNote, PatientCandidate, PatientProposal
from transcribe.vocabulary.records import fold

MONTHS = {
    "janvier": 1,
    "février": 2,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "août": 8,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "décembre": 12,
    "decembre": 12,
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
}


_SEXES = {
    "m": "M",
    "h": "M",
    "male": "M",
    "homme": "M",
    "masculin": "M",
    "man": "M",
    "f": "F",
    "female": "F",
    "femme": "F",
    "féminin": "F",
    "feminin": "F",
    "woman": "F",
}


def sex_of(value: str | None) -> str:
    """A sex as the patient index or a sidecar writes it ("M", "H", "femme", "female"...) as "M" or "F"; "" if unknown."""
    return _SEXES.get((value or "").strip().lower().rstrip("."), "")


@dataclass(frozen=True)
class PatientRecord:
    """One patient of the index."""

    patient_id: str
    family_name: str
    given_names: str
    birth_date: date | None
    sex: str = ""
    #: the patient's GP ("Dr Bernard"), as the practice software exports it: a letter's addressee by default
    gp: str = ""
    #: the INS (national health identifier: matricule and its OID), kept only with the five strict traits
    ins: str = ""
    ins_oid: str = ""
    #: strict identity traits the INS travels with: birth name, birth place (INSEE code of the commune or country)
    birth_name: str = ""
    birth_place: str = ""

    @property
    def display_name(self) -> str:
        """FAMILY Given, as reports and folders show it."""
        return f"{self.family_name.upper()} {self.given_names}".strip()


@dataclass(frozen=True)
class Candidate:
    """A patient of the index that may be the one dictated about, with the evidence."""

    patient: PatientRecord
    score: float
    evidence: tuple[IdentityNote, ...] = field(default_factory=tuple)


def parse_date(text: str) -> date | None:
    """A date written YYYY-MM-DD, DD/MM/YYYY, DD.MM.YYYY, "12 mars 1950" or "March 12, 1950"; None if not one."""
    text = text.strip().lower().replace(",", " ")
    patterns = (
        (r"(\d{4})-(\d{1,2})-(\d{1,2})", lambda m: (int(m[1]), int(m[2]), int(m[3]))),
        (r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", lambda m: (int(m[3]), int(m[2]), int(m[1]))),
        (r"(\d{4})(\d{2})(\d{2})", lambda m: (int(m[1]), int(m[2]), int(m[3]))),
        (r"(\d{1,2})(?:er)?\s+([^\W\d_]+)\s+(\d{4})", lambda m: (int(m[3]), MONTHS.get(m[2], 0), int(m[1]))),
        (r"([^\W\d_]+)\s+(\d{1,2})(?:st|nd|rd|th)?\s+(\d{4})", lambda m: (int(m[3]), MONTHS.get(m[1], 0), int(m[2]))),
    )
    for pattern, parts in patterns:
        m = re.fullmatch(pattern, re.sub(r"\s+", " ", text))
        if m:
            try:
                year, month, day = parts(m)
                parsed = date(year, month, day)
            except ValueError:
                return None
            return parsed if 1880 <= parsed.year <= 2100 else None
    return None


# --- where the identity comes from ---------------------------------------------------------
_DICTATED = re.compile(
    r"(?:patiente?|madame|monsieur|mme|mr|m\.|mademoiselle|l'enfant|enfant|mrs|ms|miss|patient)\s+"
    r"(?P<names>(?:[^\W\d_][\w'’-]*,?\s+){1,4}?)"
    r"[,\s]*(?:(?:née?|né\(e\))\s+le|date\s+de\s+naissance|born(?:\s+on)?|date\s+of\s+birth|dob|d\.o\.b\.)\s*:?\s*"
    r"(?P<date>\d{1,2}(?:er)?\s+[^\W\d_]+\s+\d{4}|[^\W\d_]+\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|\d{1,2}[/.]\d{1,2}[/.]\d{4}|\d{4}-\d{2}-\d{2})",
    re.IGNORECASE,
)
_NAME_ONLY = re.compile(
    r"\b(?i:patiente?|madame|monsieur|mrs|mr|ms|patient)\s+"
    r"(?P<names>[A-ZÀ-Ý][\w'’-]*(?:\s+(?:(?:de|du|des|le|la|van|von|di|da|del)\s+)*[A-ZÀ-Ý][\w'’-]*){1,3})",
)
_PARTICLES = {"de", "du", "des", "le", "la", "van", "von", "di", "da", "del", "d'"}


_SEX_WORDS = re.compile(
    r"\b(?P<word>monsieur|madame|mademoiselle|mme|mlle|mrs|miss|ms|mr|homme|femme|patiente|man|woman)\b",
    re.IGNORECASE,
)
_FEMALE = {"madame", "mademoiselle", "mme", "mlle", "mrs", "miss", "ms", "femme", "patiente", "woman"}
#: an age said of the patient: after a word for him ("Monsieur de 68 ans", "patiente âgée de 64 ans"),
#: or "68-year-old", "aged 68"; never "diabète de 10 ans" or "depuis 10 ans"
_AGE = re.compile(
    r"\b(?:monsieur|madame|mademoiselle|mme|m\.|patiente?|homme|femme|enfant|garçon|fille)\s+(?:[^\W\d]+\s+){0,3}?"
    r"(?:âgée?\s+)?de\s+(?P<french>\d{1,3})\s+ans\b"
    r"|\b(?P<english>\d{1,3})[- ]years?[- ]old\b|\baged\s+(?P<aged>\d{1,3})\b",
    re.IGNORECASE,
)


def sex_and_age(opening: str) -> tuple[str, int | None]:
    """The sex ("M", "F" or "") and the age a dictation's opening gives ("Monsieur de 68 ans", "a 68-year-old woman")."""
    words = " ".join(opening.split()[:25])
    title = _SEX_WORDS.search(words)
    sex = ("F" if title.group("word").lower() in _FEMALE else "M") if title else ""
    m = _AGE.search(words)
    age = int(m.group("french") or m.group("english") or m.group("aged")) if m else None
    return sex, age if age is not None and 0 < age < 130 else None


def identity_from_text(text: str) -> DictatedIdentity | None:
    """The identity dictated in the opening of a report ("patient Jean Dupont né le 12 mars 1950", "Monsieur de 68 ans")."""
    opening = " ".join(text.split()[:60])
    sex, age = sex_and_age(opening)
    m = _DICTATED.search(opening)
    if m:
        names = m.group("names").replace(",", " ").strip()
        given, family = _split_names(names)
        return DictatedIdentity(
            "dictated", None, family, given, parse_date(m.group("date")), m.group(0).strip(), sex=sex, age=age
        )
    m = _NAME_ONLY.search(opening)
    if m:
        given, family = _split_names(m.group("names").strip())
        return DictatedIdentity("dictated", None, family, given, None, m.group(0).strip(), sex=sex, age=age)
    if sex or age is not None:
        return DictatedIdentity("dictated", sex=sex, age=age)
    return None


def _split_names(names: str) -> tuple[str, str]:
    """Given names and family name from dictated words: an all-capitals word is the family name, else the last."""
    words = names.split()
    capitals = [w for w in words if w.isupper() and len(w) > 1]
    if capitals:
        family = " ".join(capitals)
        given = " ".join(w for w in words if w not in capitals)
        return given, family
    if not words:
        return "", ""
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in _PARTICLES:
        start -= 1  # "Anne-Sophie de la Tour": the family name is "de la Tour"
    return " ".join(words[:start]), " ".join(words[start:])


_FILENAME_ID = re.compile(r"(?:^|[_\s-])(?:IPP|PID|NIP|MRN)[-_]?(?P<id>[A-Za-z0-9]{2,32})(?=$|[_\s.-])", re.IGNORECASE)
_FILENAME_NAME = re.compile(
    r"(?:^|_)(?P<family>[A-ZÀ-Ý][A-ZÀ-Ý'-]+)_(?P<given>[A-ZÀ-Ý][a-zà-ÿ][A-Za-zÀ-ÿ'-]*)"
    r"(?:_(?P<birth>\d{4}-\d{2}-\d{2}|\d{8}))?(?=$|[_.])"
)


def identity_from_filename(name: str) -> DictatedIdentity | None:
    """The identity in a file name: ``..._IPP12345_...`` or ``DUPONT_Jean_1950-03-12...`` (see the README)."""
    stem = name.rsplit(".", 1)[0]
    m = _FILENAME_ID.search(stem)
    if m:
        return DictatedIdentity("filename", m.group("id"), evidence=f"file name {name}")
    m = _FILENAME_NAME.search(stem)
    if m:
        return DictatedIdentity(
            "filename",
            None,
            m.group("family").replace("-", " ").title().replace(" ", "-"),
            m.group("given"),
            parse_date(m.group("birth")) if m.group("birth") else None,
            f"file name {name}",
        )
    return None


# --- matching ------------------------------------------------------------------------------
def name_key(name: str) -> str:
    """A name as compared: no accents, no case, hyphens and apostrophes as spaces."""
    return " ".join(re.sub(r"[-'’.]", " ", fold(name)).split())


def names_key(family_name: str, given_names: str) -> str:
    """Every name of a patient as searched, each word between spaces: " de la tour anne sophie "."""
    return " " + " ".join(f"{name_key(family_name)} {name_key(given_names)}".split()) + " "


def rank_candidates(identity: DictatedIdentity, patients: list[PatientRecord], *, limit: int = 5) -> list[Candidate]:
    """The patients of the index that may be the one identified, best first, with their evidence."""
    ranked: list[Candidate] = []
    for patient in patients:
        score, evidence = _score(identity, patient)
        if score >= 40:
            ranked.append(Candidate(patient, round(score, 1), tuple(evidence)))
    ranked.sort(key=lambda c: (-c.score, c.patient.patient_id))
    return ranked[:limit]


def _score(identity: DictatedIdentity, patient: PatientRecord) -> tuple[float, list[IdentityNote]]:
    if identity.patient_id is not None:
        if identity.patient_id.lower() == patient.patient_id.lower():
            return 100.0, [IdentityNote("identity-id-given", {"id": patient.patient_id, "source": identity.source})]
        return 0.0, []
    evidence: list[IdentityNote] = []
    family, given = name_key(identity.family_name or ""), name_key(identity.given_names or "")
    p_family, p_given = name_key(patient.family_name), name_key(patient.given_names)
    straight = (
        (fuzz.ratio(family, p_family) + fuzz.ratio(given, p_given)) / 2 if given else fuzz.ratio(family, p_family)
    )
    inverted = (fuzz.ratio(family, p_given) + fuzz.ratio(given, p_family)) / 2 if given else 0.0
    name_score = max(straight, inverted)
    if family == p_family and (not given or given == p_given):
        evidence.append(IdentityNote("identity-name-matches"))
    elif inverted > straight and inverted >= 90:
        evidence.append(IdentityNote("identity-name-inverted"))
    elif name_score >= 75:
        evidence.append(IdentityNote("identity-name-close", {"score": f"{name_score:.0f}"}))
    score = name_score * (0.6 if identity.birth_date else 1.0)
    if identity.birth_date and patient.birth_date:
        if identity.birth_date == patient.birth_date:
            score += 40
            evidence.append(IdentityNote("identity-birth-date-matches", {"date": patient.birth_date.isoformat()}))
        else:
            score -= 20
            evidence.append(
                IdentityNote(
                    "identity-birth-date-unlike",
                    {"given_date": identity.birth_date.isoformat(), "chosen_date": patient.birth_date.isoformat()},
                )
            )
    return score, evidence


#: two names at least this close (rapidfuzz ratio on the folded names) are taken as the same name
SAME_NAME = 85


#: an age said that far from the patient's (in years, at the dictation's date) is a conflict: a doctor
#: rounds, and a birthday may fall between the visit and the dictation
AGE_TOLERANCE = 1


def age_on(birth: date, day: date) -> int:
    """How old someone born on ``birth`` is on ``day``, in whole years."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def identity_conflicts(
    identity: DictatedIdentity | None, patient: PatientRecord, *, on: date | None = None
) -> list[IdentityNote]:
    """How the dictated identity disagrees with the chosen patient (empty: it agrees or says nothing).

    The identifier, the birth date, the family name and the given names each count: a "Marie
    DUPONT" never agrees with Jean DUPONT. So do the sex and the age it gives ("Monsieur de
    68 ans" is not a woman of 64), the age taken on ``on``, the day of the dictation.
    """
    if identity is None:
        return []
    source = identity.source
    conflicts: list[IdentityNote] = []
    if identity.patient_id and identity.patient_id.lower() != patient.patient_id.lower():
        conflicts.append(
            IdentityNote("identity-id-differs", {"source": source, "given_id": identity.patient_id,
                                                 "chosen_id": patient.patient_id})
        )  # fmt: skip
    if identity.birth_date and patient.birth_date and identity.birth_date != patient.birth_date:
        conflicts.append(
            IdentityNote(
                "identity-birth-date-differs",
                {"source": source, "given_date": identity.birth_date.isoformat(),
                 "chosen_date": patient.birth_date.isoformat()},
            )
        )  # fmt: skip
    if identity.family_name and not names_agree(identity, patient):
        names = f"{identity.given_names or ''} {identity.family_name}".strip()
        conflicts.append(
            IdentityNote("identity-name-differs", {"source": source, "names": names, "patient": patient.display_name})
        )
    chosen_sex = sex_of(patient.sex)
    if identity.sex and chosen_sex and identity.sex != chosen_sex:
        conflicts.append(
            IdentityNote(
                "identity-sex-differs", {"source": source, "given_sex": identity.sex, "chosen_sex": chosen_sex}
            )
        )
    if identity.age is not None and patient.birth_date and on is not None:
        age = age_on(patient.birth_date, on)
        if abs(age - identity.age) > AGE_TOLERANCE:
            conflicts.append(
                IdentityNote("identity-age-differs", {"source": source, "given_age": str(identity.age),
                                                      "chosen_age": str(age)})
            )  # fmt: skip
    return conflicts


def names_agree(identity: DictatedIdentity, patient: PatientRecord) -> bool:
    """Whether the family name, and the given names when both are known, are the patient's (either order)."""
    family, given = name_key(identity.family_name or ""), name_key(identity.given_names or "")
    p_family, p_given = name_key(patient.family_name), name_key(patient.given_names)

    def same(a: str, b: str) -> bool:
        return fuzz.ratio(a, b) >= SAME_NAME

    if same(family, p_family) and (not given or not p_given or same(given, p_given)):
        return True
    return bool(given) and same(family, p_given) and same(given, p_family)


#: A candidate is proposed when it scores this much and no other comes within the margin.
PROPOSE_SCORE = 90.0
PROPOSE_MARGIN = 10.0


def propose_patient(
    sidecar: DictatedIdentity | None,
    original_name: str,
    clean_text: str,
    lookup: Callable[[DictatedIdentity], list[PatientRecord]],
) -> PatientProposal:
    """Find who a dictation is about: sidecar, then file name, then dictated opening; rank the index.

    A patient is proposed (pre-chosen for the secretary) only on an identifier, or on a name
    that agrees with more than the family name (given names or birth date), and never when
    several patients of the index share that family name: then a person chooses. The other
    sources still count at validation (``validation.identity_problems``): one that names someone
    else blocks it until a person confirms.
    """
    dictated = identity_from_text(clean_text)
    named = dictated if dictated is not None and dictated.names_someone else None  # a sex or an age alone names nobody
    identity = sidecar or identity_from_filename(original_name) or named
    if identity is None:
        return PatientProposal(None, dictated, (), None)
    patients = lookup(identity)
    candidates = tuple(rank_candidates(identity, patients))
    proposed = None
    if candidates and candidates[0].score >= PROPOSE_SCORE:
        top = candidates[0].patient
        runner_up = candidates[1].score if len(candidates) > 1 else 0.0
        by_identifier = identity.patient_id is not None
        family = name_key(top.family_name)
        namesakes = sum(1 for p in patients if name_key(p.family_name) == family)
        more_than_family = bool(identity.given_names or identity.birth_date) and not identity_conflicts(identity, top)
        if by_identifier or (candidates[0].score - runner_up >= PROPOSE_MARGIN and namesakes <= 1 and more_than_family):
            proposed = top.patient_id
    offered = tuple(
        PatientCandidate(c.patient.patient_id, c.patient.display_name, c.patient.birth_date, c.score, c.evidence)
        for c in candidates
    )
    return PatientProposal(identity, dictated, offered, proposed)
