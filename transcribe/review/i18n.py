"""The review app's words, in French and English (a setting, and each user's choice)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
    "identity_confirm_hint": {
        "fr": "Écoutez l'enregistrement ; si c'est bien ce patient, cochez la case « J'ai vérifié : c'est bien ce patient » sous l'identité, puis validez",
        "en": 'Listen to the recording; if this is the right patient, tick the box "I checked: this is the right patient" under the identity, then validate',
    },
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
    "restart_note": {
        "fr": "Pris en compte dès la prochaine dictée, sans redémarrer le service.",
        "en": "Used from the next dictation, without restarting the service.",
    },
    "filed": {"fr": "Classé", "en": "Filed"},
    "forbidden": {"fr": "Accès refusé", "en": "Access refused"},
    "error": {"fr": "Erreur", "en": "Error"},
    "read_only": {"fr": "Lecture seule", "en": "Read only"},
    "low_confidence": {"fr": "mot incertain", "en": "uncertain word"},
    "back": {"fr": "Retour", "en": "Back"},
    "counts": {"fr": "Par état", "en": "By status"},
    "stats": {"fr": "Statistiques", "en": "Statistics"},
    "by": {"fr": "Par", "en": "By"},
    "reports": {"fr": "Comptes rendus", "en": "Reports"},
    "words": {"fr": "Mots", "en": "Words"},
    "term_errors": {"fr": "Erreurs sur termes", "en": "Term errors"},
    "reverted": {"fr": "Corrections annulées", "en": "Edits reverted"},
    "review_time": {"fr": "Relecture / audio", "en": "Review / audio"},
    "wer_by_week": {"fr": "Taux d'erreur par semaine", "en": "Word error rate by week"},
    "no_reports": {"fr": "Aucun compte rendu validé.", "en": "No validated report yet."},
    "proposals": {"fr": "Propositions de vocabulaire", "en": "Vocabulary proposals"},
    "proposal": {"fr": "Proposition", "en": "Proposal"},
    "seen": {"fr": "Vu", "en": "Seen"},
    "effect": {"fr": "Effet rejoué", "en": "Replayed effect"},
    "fixed": {"fr": "corrigées", "en": "fixed"},
    "introduced": {"fr": "introduites", "en": "introduced"},
    "replay": {"fr": "Rejouer", "en": "Replay"},
    "accept": {"fr": "Accepter", "en": "Accept"},
    "reject": {"fr": "Refuser", "en": "Reject"},
    "no_proposals": {"fr": "Aucune proposition.", "en": "No proposal."},
    # worklist, doctor, admin
    "role.doctor": {"fr": "Médecin", "en": "Doctor"},
    "role.secretary": {"fr": "Secrétaire", "en": "Secretary"},
    "role.admin": {"fr": "Administrateur", "en": "Administrator"},
    "favicon": {"fr": "Dictées", "en": "Dictation"},
    "search": {"fr": "Rechercher", "en": "Search"},
    "search_worklist": {"fr": "Patient, IPP ou mots du texte", "en": "Patient, ID or words of the text"},
    "ipp": {"fr": "IPP", "en": "Patient ID"},
    "dictated": {"fr": "Dictée le", "en": "Dictated"},
    "holder": {"fr": "Pris par", "en": "Held by"},
    "overdue": {"fr": "en retard", "en": "overdue"},
    "proposed": {"fr": "proposé", "en": "proposed"},
    "all_states": {"fr": "Tous les états", "en": "All states"},
    "mine_only": {"fr": "Mes comptes rendus", "en": "My reports"},
    "sort": {"fr": "Trier", "en": "Sort"},
    "thread": {"fr": "Échanges", "en": "Messages"},
    "reply": {"fr": "Répondre", "en": "Reply"},
    "your_reply": {"fr": "Votre réponse", "en": "Your reply"},
    "view": {"fr": "Voir", "en": "View"},
    "to_sign": {"fr": "À signer", "en": "To sign"},
    "waits_signature": {"fr": "attend la signature de l'auteur", "en": "waits for the author's signature"},
    "sign": {"fr": "Signer", "en": "Sign"},
    "signed_by": {"fr": "Signé par {name} le {at}", "en": "Signed by {name} on {at}"},
    "awaiting_signature": {
        "fr": "Validé ; attend la signature de l'auteur avant d'être classé",
        "en": "Validated; waits for the author's signature before it is filed",
    },
    "draft_text": {"fr": "Texte du brouillon", "en": "Draft text"},
    "validated_text": {"fr": "Texte validé", "en": "Validated text"},
    "no_text": {"fr": "Pas encore de texte.", "en": "No text yet."},
    "no_dictations": {"fr": "Aucune dictée.", "en": "No dictation."},
    "dictation": {"fr": "Dictée", "en": "Dictation"},
    "file_name": {"fr": "Fichier", "en": "File"},
    "filed_in": {"fr": "Classé dans {path}", "en": "Filed in {path}"},
    "active": {"fr": "actif", "en": "active"},
    "disabled": {"fr": "désactivé", "en": "disabled"},
    "disable": {"fr": "Désactiver", "en": "Disable"},
    "enable": {"fr": "Réactiver", "en": "Enable"},
    "new_password": {"fr": "Nouveau mot de passe", "en": "New password"},
    "reset_password": {"fr": "Changer le mot de passe", "en": "Reset the password"},
    "change_role": {"fr": "Changer le rôle", "en": "Change the role"},
    "sessions": {"fr": "Sessions ouvertes", "en": "Open sessions"},
    "end_sessions": {"fr": "Fermer ses sessions", "en": "End the sessions"},
    "specialty": {"fr": "Spécialité", "en": "Specialty"},
    "author_folder": {"fr": "Auteur (dossier de l'inbox)", "en": "Author (inbox folder)"},
    "birth_date": {"fr": "Date de naissance", "en": "Birth date"},
    "sex": {"fr": "Sexe", "en": "Sex"},
    "previous": {"fr": "Précédents", "en": "Previous"},
    "next": {"fr": "Suivants", "en": "Next"},
    "page_of": {"fr": "{first} à {last} sur {total}", "en": "{first} to {last} of {total}"},
    "browse_patients": {"fr": "Parcourir et rechercher l'index", "en": "Browse and search the index"},
    "no_patient_found": {"fr": "Aucun patient trouvé.", "en": "No patient found."},
    "vocabulary_in_use": {
        "fr": "Vocabulaire en service : version {version}",
        "en": "Vocabulary in use: version {version}",
    },
    "vocabulary_live": {
        "fr": "Pris en compte dès la prochaine dictée, sans redémarrer le service.",
        "en": "Used from the next dictation, without restarting the service.",
    },
    "kind.drug": {"fr": "Médicament", "en": "Medicine"},
    "kind.brand": {"fr": "Nom commercial", "en": "Brand name"},
    "kind.term": {"fr": "Terme médical", "en": "Medical term"},
    "kind.anatomy": {"fr": "Anatomie", "en": "Anatomy"},
    "kind.exam": {"fr": "Examen", "en": "Examination"},
    "kind.clinical": {"fr": "Clinique", "en": "Clinical"},
    "group.author": {"fr": "Auteur", "en": "Author"},
    "group.worktype": {"fr": "Type", "en": "Type"},
    "group.language": {"fr": "Langue", "en": "Language"},
    "group.model": {"fr": "Modèle", "en": "Model"},
    "group.vocabulary": {"fr": "Vocabulaire", "en": "Vocabulary"},
    "group.week": {"fr": "Semaine", "en": "Week"},
    "group.all": {"fr": "Ensemble", "en": "All"},
    "accuracy": {"fr": "Précision de la transcription", "en": "Transcription accuracy"},
    "word_error_rate": {"fr": "Taux d'erreur (mots)", "en": "Word error rate"},
    "show": {"fr": "Afficher", "en": "Show"},
    "backlog": {"fr": "Travail en attente", "en": "Backlog"},
    "by_age": {"fr": "Par ancienneté", "en": "By age"},
    "age.hour": {"fr": "moins d'une heure", "en": "under an hour"},
    "age.hours": {"fr": "1 à 4 heures", "en": "1 to 4 hours"},
    "age.day": {"fr": "4 à 24 heures", "en": "4 to 24 hours"},
    "age.days": {"fr": "1 à 3 jours", "en": "1 to 3 days"},
    "age.older": {"fr": "plus de 3 jours", "en": "over 3 days"},
    "turnaround": {"fr": "Délais (30 derniers jours)", "en": "Turnaround (last 30 days)"},
    "span.received-validated": {"fr": "Réception → validation", "en": "Received → validated"},
    "span.validated-filed": {"fr": "Validation → classement", "en": "Validated → filed"},
    "span.received-filed": {"fr": "Réception → classement", "en": "Received → filed"},
    "median": {"fr": "Médiane", "en": "Median"},
    "ninety": {"fr": "9 sur 10 en moins de", "en": "90% within"},
    "total": {"fr": "Total", "en": "Total"},
    "no_figures": {"fr": "Pas encore de chiffres.", "en": "No figures yet."},
    "proposal.term": {"fr": "Ajouter le terme « {target} »", "en": "Add the term '{target}'"},
    "proposal.biasing": {
        "fr": "Dire au moteur d'attendre « {target} »",
        "en": "Tell the engine to expect '{target}'",
    },
    "Not Found": {"fr": "Page introuvable", "en": "Not found"},
    "Method Not Allowed": {"fr": "Action non permise ici", "en": "Method not allowed"},
    "error.invalid-request": {"fr": "Requête invalide", "en": "Invalid request"},
    "error.role": {"fr": "Accès refusé pour votre rôle", "en": "access refused for your role"},
    "error.csrf": {
        "fr": "Le formulaire a expiré (contrôle CSRF) ; rechargez la page",
        "en": "the form has expired (CSRF check failed); reload the page",
    },
    "error.login-csrf": {
        "fr": "Le formulaire de connexion a expiré ; rechargez la page",
        "en": "the login form has expired (CSRF check failed); reload the page",
    },
    "error.json": {"fr": "La requête n'est pas du JSON valide", "en": "the request is not valid JSON"},
    "error.json-object": {"fr": "La requête doit être un objet JSON", "en": "the request must be a JSON object"},
    "error.no-such-dictation": {"fr": "Dictée introuvable", "en": "no such dictation"},
    "error.not-yours": {"fr": "Accès refusé : ce n'est pas votre dictée", "en": "access refused: not your dictation"},
    "error.no-author": {
        "fr": "Aucune dictée n'est liée à votre compte",
        "en": "no dictations are linked to your account",
    },
    "error.not-returned": {
        "fr": "Ce compte rendu n'est plus renvoyé à son auteur",
        "en": "this report is no longer returned to its author",
    },
    "error.empty-reply": {"fr": "Écrivez votre réponse", "en": "write your reply"},
    "error.not-signable": {
        "fr": "Ce compte rendu n'attend pas de signature",
        "en": "this report is not waiting for a signature",
    },
    "error.only-author-signs": {
        "fr": "Seul l'auteur signe son compte rendu",
        "en": "only its author signs a report",
    },
    "error.no-such-action": {"fr": "Action inconnue", "en": "no such action"},
    "error.no-such-user": {"fr": "Compte introuvable", "en": "no such account"},
    "error.own-account": {
        "fr": "Vous ne pouvez pas désactiver votre propre compte ni changer votre rôle",
        "en": "you cannot disable your own account or change your own role",
    },
    "error.last-admin": {
        "fr": "Il doit rester au moins un administrateur actif",
        "en": "at least one active administrator must remain",
    },
    "account.role": {"fr": "Le rôle doit être l'un de : {roles}", "en": "role must be one of {roles}"},
    "account.username": {
        "fr": "Un identifiant a de 1 à 100 lettres, chiffres, « . », « - » ou « _ »",
        "en": "a user name is 1 to 100 letters, digits, '.', '-' or '_'",
    },
    "account.password": {
        "fr": "Un mot de passe a au moins {minimum} caractères",
        "en": "a password needs at least {minimum} characters",
    },
    "account.exists": {"fr": "Le compte {username} existe déjà", "en": "user {username} already exists"},
    "login.wrong": {"fr": "Identifiant ou mot de passe incorrect", "en": "wrong user name or password"},
    "login.throttled": {
        "fr": "Trop d'essais manqués ; attendez {seconds} secondes et réessayez",
        "en": "too many failed attempts; wait {seconds} seconds and try again",
    },
    "done.user-added": {"fr": "ok : {username} ajouté ({role})", "en": "ok: {username} added ({role})"},
    "done.user-disabled": {"fr": "{username} est désactivé", "en": "{username} is disabled"},
    "done.user-enabled": {"fr": "{username} est réactivé", "en": "{username} is enabled again"},
    "done.password-reset": {
        "fr": "Mot de passe de {username} changé ; ses sessions sont fermées",
        "en": "{username}'s password is changed; their sessions are ended",
    },
    "done.role-changed": {"fr": "{username} est maintenant {role}", "en": "{username} is now {role}"},
    "done.sessions-ended": {
        "fr": "{count} session(s) de {username} fermée(s)",
        "en": "{count} session(s) of {username} ended",
    },
    "done.patients-imported": {
        "fr": "{added} ajouté(s), {updated} mis à jour, {refused} refusé(s)",
        "en": "{added} added, {updated} updated, {refused} refused",
    },
    "done.term-added": {"fr": "Terme « {term} » ajouté ({language})", "en": "Term '{term}' added ({language})"},
    "done.term-refused": {
        "fr": "Terme refusé : 1 à 100 caractères, sans tabulation ni retour à la ligne",
        "en": "term refused: 1 to 100 characters, no tab or line break",
    },
    "done.proposal-replayed": {
        "fr": "n° {id} : {fixed} erreur(s) corrigée(s), {introduced} introduite(s)",
        "en": "#{id}: {fixed} errors fixed, {introduced} introduced",
    },
    "done.proposal-accepted": {
        "fr": "n° {id} : acceptée (prise en compte dès la prochaine dictée)",
        "en": "#{id}: accepted (used from the next dictation)",
    },
    "done.proposal-rejected": {"fr": "n° {id} : refusée", "en": "#{id}: rejected"},
    "done.signed": {"fr": "Compte rendu signé et classé", "en": "Report signed and filed"},
    "error.filing-failed": {
        "fr": "Le classement a échoué ; le compte rendu reste validé et sera classé plus tard",
        "en": "filing failed; the report stays validated and will be filed later",
    },
    "error.proposal": {
        "fr": "La proposition n° {id} n'a pas pu être traitée",
        "en": "proposal {id} could not be handled",
    },
    "every_author": {"fr": "pour tous les auteurs", "en": "for every author"},
    "proposal.unknown": {"fr": "Pas de proposition n° {id}", "en": "no proposal {id}"},
    "proposal.decided": {"fr": "La proposition n° {id} a déjà été traitée", "en": "proposal {id} was already decided"},
    "proposal.not-replayable": {
        "fr": "La proposition n° {id} change ce que le moteur attend, pas le texte : elle ne se rejoue pas ; "
        "son effet se verra dans les chiffres une fois acceptée",
        "en": "proposal {id} changes what the engine is told to expect, not the text: it cannot be replayed on "
        "past texts; its effect shows in the figures once accepted",
    },
    "import.line": {"fr": "ligne {line} : {reason}", "en": "line {line}: {reason}"},
    "import.unreadable": {"fr": "fichier CSV illisible", "en": "not a readable CSV file"},
    "import.empty": {"fr": "le fichier est vide", "en": "the file is empty"},
    "import.header": {
        "fr": "il manque à l'en-tête : {missing}",
        "en": "header lacks {missing}",
    },
    "import.required": {
        "fr": "un identifiant et un nom de famille sont obligatoires",
        "en": "an identifier and a family name are required",
    },
    "import.identifier-characters": {
        "fr": "l'identifiant « {identifier} » a des caractères impossibles dans un nom de dossier",
        "en": "identifier '{identifier}' has characters that cannot go in a folder name",
    },
    "import.identifier-twice": {
        "fr": "l'identifiant {identifier} figure deux fois dans le fichier",
        "en": "identifier {identifier} appears twice in the file",
    },
    "import.birth-date": {
        "fr": "la date de naissance « {value} » n'est pas une date (AAAA-MM-JJ ou JJ/MM/AAAA)",
        "en": "birth date '{value}' is not a date (use YYYY-MM-DD or DD/MM/YYYY)",
    },
    # review screen
    "review.saving": {"fr": "Enregistrement…", "en": "Saving…"},
    "review.to_check": {"fr": "À vérifier", "en": "To check"},
    "review.open_count": {"fr": "{open} à vérifier sur {total}", "en": "{open} of {total} to check"},
    "review.words_removed": {"fr": "Texte retiré", "en": "Text removed"},
    "review.apply_suggestion": {"fr": "Remplacer par", "en": "Replace with"},
    "review.locked_by_other": {
        "fr": "{holder} travaille sur ce compte rendu — lecture seule",
        "en": "{holder} is working on this report — read only",
    },
    "review.takeover_reason": {"fr": "Motif", "en": "Reason"},
    "review.takeover": {"fr": "Prendre la main", "en": "Take over"},
    "review.reopen": {"fr": "Rouvrir (nouvelle version)", "en": "Reopen (new version)"},
    "review.reopened_note": {
        "fr": "{state} (version {version}) : lecture seule. Rouvrir pour corriger ; la correction sera classée comme "
        "nouvelle version, à côté de la précédente.",
        "en": "{state} (version {version}): read only. Reopen it to correct it; the correction is filed as a new "
        "version, beside the previous one.",
    },
    "review.version": {"fr": "version {version}", "en": "version {version}"},
    "review.stale_reload": {
        "fr": "Ce compte rendu a été modifié par quelqu'un d'autre depuis son ouverture : rechargez la page "
        "(votre dernière saisie n'a pas été enregistrée)",
        "en": "Someone else changed this report since you opened it: reload the page (your last typing was not saved)",
    },
    "review.find_replace": {"fr": "Rechercher / remplacer", "en": "Find / replace"},
    "review.find": {"fr": "Rechercher", "en": "Find"},
    "review.replace_by": {"fr": "Remplacer par", "en": "Replace with"},
    "review.find_next": {"fr": "Suivant", "en": "Next"},
    "review.replace_one": {"fr": "Remplacer", "en": "Replace"},
    "review.replace_all": {"fr": "Tout remplacer", "en": "Replace all"},
    "review.not_found": {"fr": "Introuvable", "en": "Not found"},
    "review.replaced_count": {"fr": "{count} remplacement(s)", "en": "{count} replaced"},
    "review.autotext": {"fr": "Texte type", "en": "Text block"},
    "review.autotext_unknown": {
        "fr": "Aucun texte type n'a le code « {code} »",
        "en": "No text block has the code '{code}'",
    },
    "review.preview": {"fr": "Aperçu", "en": "Preview"},
    "review.preview_title": {"fr": "Aperçu du document", "en": "Document preview"},
    "review.confirm_file": {
        "fr": "Valider et classer ce compte rendu ? (Entrée : oui, Échap : non)",
        "en": "Validate and file this report? (Enter: yes, Esc: no)",
    },
    "review.confirm_refile": {
        "fr": "Valider et classer la version {version} ? (Entrée : oui, Échap : non)",
        "en": "Validate and file version {version}? (Enter: yes, Esc: no)",
    },
    "review.download_docx": {"fr": "Télécharger le DOCX", "en": "Download the DOCX"},
    "review.print": {"fr": "Imprimer", "en": "Print"},
    "review.close": {"fr": "Fermer", "en": "Close"},
    "review.next": {"fr": "Dictée suivante", "en": "Next dictation"},
    "review.forward": {"fr": "Avancer", "en": "Forward"},
    "review.resume_rewind": {"fr": "reprend 1,5 s en arrière", "en": "resumes 1.5 s back"},
    "review.key_play_here": {"fr": "Écouter depuis le curseur", "en": "Play from the caret"},
    "review.key_next_flag": {"fr": "Point à vérifier suivant / précédent", "en": "Next / previous point to check"},
    "review.key_tick": {"fr": "Cocher « Vérifié »", "en": "Tick « Checked »"},
    "review.key_choice": {
        "fr": "Choisir la lecture ou la suggestion n° 1…9",
        "en": "Choose reading or suggestion 1…9",
    },
    "review.key_revert": {
        "fr": "Annuler / rétablir la correction automatique sous le curseur",
        "en": "Undo / redo the automatic change at the caret",
    },
    "review.key_autotext": {
        "fr": "Après un code : insérer le texte type",
        "en": "After a code: insert the text block",
    },
    "review.kbd_ctrl_space": {"fr": "Ctrl+Espace", "en": "Ctrl+Space"},
    "review.kbd_ctrl_enter": {"fr": "Ctrl+Entrée", "en": "Ctrl+Enter"},
    "review.flags_pending": {
        "fr": "{count} point(s) à vérifier restent : cochez chaque point avant de valider",
        "en": "{count} point(s) to check remain: resolve every flag before validating",
    },
    "review.filing_failed": {
        "fr": "Validé, mais le classement a échoué ; il sera réessayé :",
        "en": "Validated, but filing failed; it will be tried again:",
    },
    "review.err.no_draft": {"fr": "Cette dictée n'a pas encore de brouillon", "en": "this dictation has no draft yet"},
    "review.err.no_patient": {"fr": "Ce patient n'est pas dans l'index", "en": "no such patient in the index"},
    "review.err.no_edit": {"fr": "Cette correction n'existe pas", "en": "no such change"},
    "review.err.no_flag": {"fr": "Ce point à vérifier n'existe pas", "en": "no such point to check"},
    "review.err.anchor_lost": {
        "fr": "Ce passage a été réécrit à la main : corrigez-le directement dans le texte",
        "en": "this passage was rewritten by hand: correct it directly in the text",
    },
    "review.err.choose_reading": {
        "fr": "Cette dose peut se lire de plusieurs façons : choisissez une de ses lectures (ou corrigez-la dans le "
        "texte) avant de la cocher",
        "en": "this dose can be read in several ways: choose one of its readings (or correct it in the text) "
        "before ticking it",
    },
    "review.err.not_a_reading": {
        "fr": "Ce n'est pas une des lectures proposées pour ce passage",
        "en": "this is not one of the readings offered for this passage",
    },
    "review.err.no_suggestion": {
        "fr": "Ce point n'a pas de suggestion : corrigez-le dans le texte, ou cochez-le",
        "en": "this point to check has no suggestion: correct it in the text, or tick it",
    },
    "review.err.search_again": {
        "fr": "Le texte a changé à cet endroit : recherchez à nouveau",
        "en": "the text changed there: search again",
    },
    "review.err.not_changeable": {
        "fr": "Ce compte rendu est « {state} » : il ne peut plus être modifié",
        "en": "this report is '{state}': it can no longer be changed",
    },
    "review.err.takeover_reason": {
        "fr": "Dites pourquoi vous prenez la main (le motif est gardé dans le journal)",
        "en": "say why you take over (the reason is kept in the audit trail)",
    },
    "review.err.not_reopenable": {
        "fr": "Seul un compte rendu validé ou classé peut être rouvert",
        "en": "only a validated or filed report can be reopened",
    },
    "review.err.not_validatable": {
        "fr": "Ce compte rendu ne peut pas être validé dans cet état (rouvrez-le pour une nouvelle version)",
        "en": "this report cannot be validated as it is (reopen it for a new version)",
    },
    "review.err.choose_patient": {
        "fr": "Choisissez le patient avant de valider",
        "en": "choose the patient before validating",
    },
    "review.err.return_comment": {
        "fr": "Dites dans un commentaire pourquoi le compte rendu retourne à son auteur",
        "en": "say in a comment why the report goes back to its author",
    },
    "review.flag.dose": {"fr": "dose", "en": "dose"},
    "review.flag.term": {"fr": "terme", "en": "term"},
    "review.flag.abbreviation": {"fr": "abréviation", "en": "abbreviation"},
    "review.flag.hallucination": {"fr": "texte non dicté", "en": "not dictated"},
    "review.flag.repetition": {"fr": "répétition", "en": "repetition"},
    "review.flag.prompt-copy": {"fr": "mot suggéré au moteur", "en": "word given to the engine"},
    "review.flag.language": {"fr": "langue", "en": "language"},
    "review.rule.command": {"fr": "commande dictée", "en": "dictated command"},
    "review.rule.number": {"fr": "nombre", "en": "number"},
    "review.rule.unit": {"fr": "unité", "en": "unit"},
    "review.rule.term": {"fr": "terme médical", "en": "medical term"},
    "review.rule.term-audio": {"fr": "terme confirmé à l'écoute", "en": "term confirmed by the audio"},
    "review.rule.abbreviation": {"fr": "abréviation", "en": "abbreviation"},
    "review.rule.abbreviation-letters": {"fr": "abréviation épelée", "en": "spelled abbreviation"},
    "review.rule.hallucination": {"fr": "texte non dicté retiré", "en": "text not dictated, removed"},
    "review.rule.spacing": {"fr": "espaces et ponctuation", "en": "spacing and punctuation"},
    "review.rule.casing": {"fr": "majuscules", "en": "capitals"},
    "review.rule.blood-pressure": {"fr": "tension artérielle", "en": "blood pressure"},
    "review.rule.year": {"fr": "année", "en": "year"},
    "review.rule.site-correction": {"fr": "correction du site", "en": "site correction"},
}


def translator(language: str) -> Callable[..., str]:
    """A function giving the text of a message key in a language, its ``{parameters}`` filled in.

    English where a key has no text in the language; the key itself where it is not in the
    catalogue (a message that is not a code yet is shown as it is).
    """
    language = language if language in ("fr", "en") else "en"

    def t(key: str, **params: Any) -> str:
        entry = MESSAGES.get(key)
        text = entry.get(language, entry["en"]) if entry else key
        return text.format_map(_Kept(params)) if params and entry else text

    return t


class _Kept(dict[str, Any]):
    """Parameters for a message: one that is missing stays as it is written ("{name}")."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def notice(t: Callable[..., str], key: str) -> str:
    """The outcome a page was sent back with (``?message=done.user-added``): only a key of the catalogue is shown."""
    return t(key) if key in MESSAGES else ""


def error_text(t: Callable[..., str], error: Exception) -> str:
    """An error in the reader's language: its catalogue code with its parameters, else its own message."""
    code = getattr(error, "code", None)
    if isinstance(code, str) and code in MESSAGES:
        return t(code, **dict(getattr(error, "params", None) or {}))
    return str(error)
