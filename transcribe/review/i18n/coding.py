"""The codes panel's words (review screen and the doctor's view): diagnoses and acts, suggested and chosen."""

WORDS: dict[str, dict[str, str]] = {
    "codes.title": {"fr": "Codage", "en": "Codes"},
    "codes.diagnosis": {"fr": "Diagnostic", "en": "Diagnosis"},
    "codes.act": {"fr": "Acte", "en": "Act"},
    "codes.accept": {"fr": "Retenir", "en": "Accept"},
    "codes.reject": {"fr": "Écarter", "en": "Reject"},
    "codes.undo": {"fr": "Revenir", "en": "Undo"},
    "codes.add": {"fr": "Ajouter", "en": "Add"},
    "codes.accepted": {"fr": "retenu", "en": "accepted"},
    "codes.rejected": {"fr": "écarté", "en": "rejected"},
    "codes.added": {"fr": "ajouté", "en": "added"},
    "codes.search": {"fr": "Chercher un code (mots ou code)", "en": "Find a code (words or code)"},
    "codes.none": {"fr": "Aucun code proposé", "en": "No code suggested"},
    "codes.no_result": {"fr": "Aucun code trouvé", "en": "No code found"},
    "codes.chosen": {"fr": "Codes retenus", "en": "Chosen codes"},
    "codes.set_aside": {"fr": "Non proposé ({reasons})", "en": "Not suggested ({reasons})"},
    "codes.reason.negated": {"fr": "nié", "en": "negated"},
    "codes.reason.hypothetical": {"fr": "hypothèse", "en": "hypothesis"},
    "codes.reason.family": {"fr": "antécédent familial", "en": "family history"},
    "codes.missing_set": {
        "fr": "Nomenclature {system} non importée : ses codes ne sont pas proposés (transcribe codes import)",
        "en": "{system} codes not suggested: the code set is not imported (transcribe codes import)",
    },
    "codes.key": {"fr": "Aller au codage", "en": "Go to the codes"},
    "codes.err.no_code": {
        "fr": "Ce code n'est pas dans la nomenclature du site : cherchez-le par ses mots",
        "en": "This code is not in the site's code set: search it by its words",
    },
    "codes.err.not_changeable": {
        "fr": "Ce compte rendu est validé : rouvrez-le pour changer ses codes",
        "en": "This report is validated: open it again to change its codes",
    },
}
