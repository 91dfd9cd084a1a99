"""The medical specialties an author dictates in: one list, with the words the interface shows.

An author's specialty chooses the short list of terms, medicines and abbreviations the
engine is told to expect (``vocab/<lang>/specialties/<specialty>.tsv``; see ``speech.biasing``).
"""

from __future__ import annotations

from transcribe.messages import Catalogue

SPECIALTIES = (
    "cardiology",
    "endocrinology",
    "pulmonology",
    "neurology",
    "gastroenterology",
    "rheumatology",
    "dermatology",
    "urology",
    "psychiatry",
    "ophthalmology",
    "gynecology",
    "oncology",
    "pediatrics",
    "emergency",
    "general-surgery",
    "orthopedics",
    "general-practice",
    "infectious-diseases",
    "nephrology",
    "geriatrics",
    "radiology",
)

LABELS = Catalogue.by_language(
    {
        "fr": {
            "cardiology": "Cardiologie",
            "endocrinology": "Endocrinologie",
            "pulmonology": "Pneumologie",
            "neurology": "Neurologie",
            "gastroenterology": "Gastro-entérologie",
            "rheumatology": "Rhumatologie",
            "dermatology": "Dermatologie",
            "urology": "Urologie",
            "psychiatry": "Psychiatrie",
            "ophthalmology": "Ophtalmologie",
            "gynecology": "Gynécologie",
            "oncology": "Oncologie",
            "pediatrics": "Pédiatrie",
            "emergency": "Urgences",
            "general-surgery": "Chirurgie générale",
            "orthopedics": "Orthopédie",
            "general-practice": "Médecine générale",
            "infectious-diseases": "Maladies infectieuses",
            "nephrology": "Néphrologie",
            "geriatrics": "Gériatrie",
            "radiology": "Radiologie",
        },
        "en": {
            "cardiology": "Cardiology",
            "endocrinology": "Endocrinology",
            "pulmonology": "Pulmonology",
            "neurology": "Neurology",
            "gastroenterology": "Gastroenterology",
            "rheumatology": "Rheumatology",
            "dermatology": "Dermatology",
            "urology": "Urology",
            "psychiatry": "Psychiatry",
            "ophthalmology": "Ophthalmology",
            "gynecology": "Gynecology",
            "oncology": "Oncology",
            "pediatrics": "Pediatrics",
            "emergency": "Emergency medicine",
            "general-surgery": "General surgery",
            "orthopedics": "Orthopedics",
            "general-practice": "General practice",
            "infectious-diseases": "Infectious diseases",
            "nephrology": "Nephrology",
            "geriatrics": "Geriatrics",
            "radiology": "Radiology",
        },
    }
)


def label_of(specialty: str, language: str) -> str:
    """The specialty as the interface shows it, in its language."""
    return LABELS.say(specialty, language)
