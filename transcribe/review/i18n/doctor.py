"""The doctor's screens (/mine): his dictations, replies and signatures."""

WORDS: dict[str, dict[str, str]] = {
    "resubmit": {"fr": "Renvoyer en relecture", "en": "Send back for review"},
    "reply": {"fr": "Répondre", "en": "Reply"},
    "your_reply": {"fr": "Votre réponse", "en": "Your reply"},
    "view": {"fr": "Voir", "en": "View"},
    "to_sign": {"fr": "À signer", "en": "To sign"},
    "sign": {"fr": "Signer", "en": "Sign"},
    "signed_by": {"fr": "Signé par {name} le {at}", "en": "Signed by {name} on {at}"},
    "draft_text": {"fr": "Texte du brouillon", "en": "Draft text"},
    "validated_text": {"fr": "Texte validé", "en": "Validated text"},
    "document_to_sign": {
        "fr": "Le document à signer, tel qu'il sera classé",
        "en": "The document to sign, as it will be filed",
    },
    "validated_document": {"fr": "Le document validé, tel qu'il est classé", "en": "The validated document, as filed"},
    "no_text": {"fr": "Pas encore de texte.", "en": "No text yet."},
    "no_dictations": {"fr": "Aucune dictée.", "en": "No dictation."},
    "dictation": {"fr": "Dictée", "en": "Dictation"},
    "filed_in": {"fr": "Classé dans {path}", "en": "Filed in {path}"},
    "error.not-yours": {"fr": "Accès refusé : ce n'est pas votre dictée", "en": "access refused: not your dictation"},
    "error.not-returned": {
        "fr": "Ce compte rendu n'est plus renvoyé à son auteur",
        "en": "this report is no longer returned to its author",
    },
    "error.empty-reply": {"fr": "Écrivez votre réponse", "en": "write your reply"},
    "error.not-signable": {
        "fr": "Ce compte rendu n'attend pas de signature",
        "en": "this report is not waiting for a signature",
    },
    "done.signed": {"fr": "Compte rendu signé et classé", "en": "Report signed and filed"},
    "error.filing-failed": {
        "fr": "Le classement a échoué ; le compte rendu reste validé et sera classé plus tard",
        "en": "filing failed; the report stays validated and will be filed later",
    },
}
