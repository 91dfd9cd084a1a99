"""``transcribe requeue``: a quarantined job goes back to the queue, on its archived audio."""

from __future__ import annotations

from typing import TYPE_CHECKING

from transcribe.errors import InputError
from transcribe.intake.atomic import move_file
from transcribe.intake.files import archive_path, hash_file
from transcribe.intake.quarantine import error_record_path, quarantined_files
from transcribe.records import Job, JobState
from transcribe.settings import Settings
from transcribe.store import JobStore

if TYPE_CHECKING:
    from transcribe.security.audit import Auditor


def requeue(settings: Settings, store: JobStore, job_id: int, *, audit: Auditor | None = None) -> Job:
    """Bring a quarantined job back to the queue, on its archived audio; its copy in quarantine is removed.

    ``audit`` writes the entry in the transaction that queues it again.
    """
    job = store.jobs.get(job_id)
    if job.state is not JobState.QUARANTINED:
        return store.jobs.requeue(job_id, audio_path=job.audio_path, audit=audit)  # raises with a clear message
    audio = job.audio_path
    if audio.is_relative_to(settings.paths.quarantine) and audio.exists():
        # quarantined by an earlier version, which moved the audio out of the archive: it goes back
        record = error_record_path(audio)
        audio = move_file(audio, archive_path(settings.paths.archive, job.audio_sha256, job.original_name))
        record.unlink(missing_ok=True)
    elif not audio.exists():
        raise InputError(f"job {job_id}: its audio is no longer at {audio}; put it back there and requeue again")
    job = store.jobs.requeue(job_id, audio_path=audio, audit=audit)
    for kept in quarantined_files(settings.paths.quarantine, job_id):
        if hash_file(kept) == job.audio_sha256:  # the copy of the archived audio (a late sidecar is kept)
            kept.unlink()
            error_record_path(kept).unlink(missing_ok=True)
    return job
