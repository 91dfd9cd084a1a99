"""Noticing that the vocabulary files changed, so that a running service uses them without a restart.

The admin adds a term, an accepted proposal is written under ``vocab/site/``, someone edits
``vocab/``: the files' stamp (each file's path, size and modification time) changes, and the
next dictation (worker) or request (review app) loads the vocabulary again. A stamp reads only
the folders' listings, never the files, so that it can be taken before each job.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from transcribe.errors import TranscribeError
from transcribe.settings import Settings
from transcribe.vocabulary.files import load_vocabulary, vocabulary_folder
from transcribe.vocabulary.records import Vocabulary

log = logging.getLogger(__name__)

#: the kinds of file the vocabulary is read from (``vocabulary.files``)
VOCABULARY_SUFFIXES = (".tsv", ".txt", ".toml")

Stamp = tuple[tuple[str, int, int], ...]


def vocabulary_stamp(settings: Settings) -> Stamp:
    """What the vocabulary files are now: each one's path, size and modification time."""
    entries: list[tuple[str, int, int]] = []
    for root in (vocabulary_folder(settings.paths.vocab), settings.paths.site_vocab):
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix not in VOCABULARY_SUFFIXES:
                continue
            try:
                status = path.stat()
            except OSError:
                continue  # removed while listed: the next stamp sees it gone
            entries.append((str(path), status.st_size, status.st_mtime_ns))
    return tuple(entries)


def load_site_vocabulary(settings: Settings) -> Vocabulary:
    """The vocabulary with the site's additions, as the settings name them (cached beside the models)."""
    return load_vocabulary(
        vocabulary_folder(settings.paths.vocab),
        site_folder=settings.paths.site_vocab,
        cache_dir=settings.asr.model_cache.parent / "vocabulary",
    )


class VocabularyWatch:
    """Says whether the vocabulary files changed since it last looked (the worker asks before each job)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._stamp = vocabulary_stamp(settings)

    def changed(self) -> bool:
        """Whether the files changed since the last call (or since the watch began)."""
        stamp = vocabulary_stamp(self._settings)
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        return True


class LiveVocabulary:
    """The vocabulary a long-running door uses, loaded again when its files change.

    Looks at the files at most every ``check_s`` seconds; while one thread loads the new
    vocabulary, the others go on with the one they had.
    """

    def __init__(
        self,
        settings: Settings,
        vocabulary: Vocabulary,
        *,
        load: Callable[[Settings], Vocabulary] = load_site_vocabulary,
        check_s: float = 1.0,
    ) -> None:
        self._settings = settings
        self._vocabulary = vocabulary
        self._load = load
        self._check_s = check_s
        self._watch = VocabularyWatch(settings)
        self._checked_at = time.monotonic()
        self._loading = threading.Lock()

    def current(self, *, now: bool = False) -> Vocabulary:
        """The vocabulary as the files hold it (``now``: look at the files at once, not at most every check_s)."""
        if not now and time.monotonic() - self._checked_at < self._check_s:
            return self._vocabulary
        if not self._loading.acquire(blocking=now):
            return self._vocabulary
        try:
            self._checked_at = time.monotonic()
            if self._watch.changed():
                try:
                    self._vocabulary = self._load(self._settings)
                except TranscribeError as e:  # a file being written, or wrong: keep the one in use
                    log.warning("the vocabulary files changed but cannot be loaded (%s); the previous one stays", e)
                else:
                    log.info("vocabulary %s loaded again (its files changed)", self._vocabulary.version)
        finally:
            self._loading.release()
        return self._vocabulary
