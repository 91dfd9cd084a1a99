"""The review app's words, in French and English (a setting, and each user's choice)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "app": {"fr": "Dictées médicales", "en": "Medical dictation"},
    "login": {"fr": "Connexion", "en": "Log in"},
    "logout": {"fr": "Déconnexion", "en": "Log out"},
    "username": {"fr": "Identifiant", "en": "User name"},
    "password": {"fr": "Mot de passe", "en": "Password"},
    "queue": {"fr": "À relire", "en": "Review queue"},
    "mine": {"fr": "Mes dictées", "en": "My dictations"},
    "admin": {"fr": "Administration", "en": "Administration"},
    "author": {"fr": "Auteur", "en": "Author"},
    "worktype": {"fr": "Type", "en": "Type"},
    "status": {"fr": "État", "en": "Status"},
    "language": {"fr": "Langue", "en": "Language"},
    "patient": {"fr": "Patient", "en": "Patient"},
    "search_patient": {"fr": "Rechercher un patient", "en": "Search a patient"},
    "filter": {"fr": "Filtrer", "en": "Filter"},
    "all": {"fr": "Tous", "en": "All"},
    "urgent": {"fr": "Urgent", "en": "Urgent"},
    "due": {"fr": "Échéance", "en": "Due"},
    "age": {"fr": "Reçue", "en": "Received"},
    "duration": {"fr": "Durée", "en": "Length"},
    "flags": {"fr": "Points à vérifier", "en": "To check"},
    "open": {"fr": "Ouvrir", "en": "Open"},
    "locked_by": {"fr": "En cours par", "en": "Being edited by"},
    "empty_queue": {"fr": "Rien à relire.", "en": "Nothing to review."},
    "review": {"fr": "Relecture", "en": "Review"},
    "listen": {"fr": "Écoute", "en": "Listening"},
    "speed": {"fr": "Vitesse", "en": "Speed"},
    "rewind": {"fr": "Reculer", "en": "Rewind"},
    "play": {"fr": "Lecture / pause", "en": "Play / pause"},
    "keys": {"fr": "Touches", "en": "Keys"},
    "report": {"fr": "Compte rendu", "en": "Report"},
    "body": {"fr": "Texte", "en": "Text"},
    "heard": {"fr": "Entendu", "en": "Heard"},
    "revert": {"fr": "Annuler la correction", "en": "Undo the change"},
    "reapply": {"fr": "Rétablir la correction", "en": "Redo the change"},
    "resolved": {"fr": "Vérifié", "en": "Checked"},
    "identity": {"fr": "Identité", "en": "Identity"},
    "dictated_identity": {"fr": "Identité dictée", "en": "Dictated identity"},
    "candidates": {"fr": "Patients possibles", "en": "Possible patients"},
    "choose": {"fr": "Choisir", "en": "Choose"},
    "chosen_patient": {"fr": "Patient choisi", "en": "Chosen patient"},
    "confirm_identity": {"fr": "J'ai vérifié : c'est bien ce patient", "en": "I checked: this is the right patient"},
    "identity_conflict": {"fr": "L'identité dictée ne correspond pas", "en": "The dictated identity does not match"},
    "no_patient": {"fr": "Aucun patient choisi", "en": "No patient chosen"},
    "save": {"fr": "Enregistrer", "en": "Save draft"},
    "saved": {"fr": "Enregistré", "en": "Saved"},
    "validate_file": {"fr": "Valider et classer", "en": "Validate and file"},
    "return": {"fr": "Renvoyer à l'auteur", "en": "Return to author"},
    "comment": {"fr": "Commentaire", "en": "Comment"},
    "returned": {"fr": "Renvoyés par le secrétariat", "en": "Returned by the secretaries"},
    "resubmit": {"fr": "Renvoyer en relecture", "en": "Send back for review"},
    "users": {"fr": "Utilisateurs", "en": "Users"},
    "role": {"fr": "Rôle", "en": "Role"},
    "add_user": {"fr": "Ajouter", "en": "Add"},
    "patient_index": {"fr": "Index patients", "en": "Patient index"},
    "import": {"fr": "Importer", "en": "Import"},
    "site_vocabulary": {"fr": "Vocabulaire du site", "en": "Site vocabulary"},
    "term": {"fr": "Terme", "en": "Term"},
    "kind": {"fr": "Nature", "en": "Kind"},
    "add_term": {"fr": "Ajouter le terme", "en": "Add the term"},
    "restart_note": {"fr": "Pris en compte au prochain démarrage du service.", "en": "Used from the next start of the service."},
    "filed": {"fr": "Classé", "en": "Filed"},
    "forbidden": {"fr": "Accès refusé", "en": "Access refused"},
    "error": {"fr": "Erreur", "en": "Error"},
    "read_only": {"fr": "Lecture seule", "en": "Read only"},
    "low_confidence": {"fr": "mot incertain", "en": "uncertain word"},
    "back": {"fr": "Retour", "en": "Back"},
    "counts": {"fr": "Par état", "en": "By status"},
}


def translator(language: str):
    """A function giving the text of a message key in a language (English where a key is missing)."""
    language = language if language in ("fr", "en") else "en"

    def t(key: str) -> str:
        entry = MESSAGES.get(key)
        return entry.get(language, entry["en"]) if entry else key

    return t
