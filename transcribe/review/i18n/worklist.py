"""The worklist's words (/queue)."""

WORDS: dict[str, dict[str, str]] = {
    "filter": {"fr": "Filtrer", "en": "Filter"},
    "due": {"fr": "Échéance", "en": "Due"},
    "empty_queue": {"fr": "Rien à relire.", "en": "Nothing to review."},
    "search_worklist": {"fr": "Patient, IPP ou mots du texte", "en": "Patient, ID or words of the text"},
    "holder": {"fr": "Pris par", "en": "Held by"},
    "overdue": {"fr": "en retard", "en": "overdue"},
    "proposed": {"fr": "proposé", "en": "proposed"},
    "all_states": {"fr": "Tous les états", "en": "All states"},
    "mine_only": {"fr": "Mes comptes rendus", "en": "My reports"},
    "sort": {"fr": "Trier", "en": "Sort"},
    "waits_signature": {"fr": "attend la signature de l'auteur", "en": "waits for the author's signature"},
    "waits_admin": {
        "fr": "attend la signature d'un administrateur : l'auteur n'a pas de compte",
        "en": "waits for an administrator's signature: the author has no account",
    },
    "waits_by": {
        "fr": "attend la signature de {name} : l'auteur n'a pas de compte",
        "en": "waits for {name}'s signature: the author has no account",
    },
}
