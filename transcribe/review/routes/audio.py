"""The audio of a dictation, as the review screen and the doctor's view play it."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, Response

from transcribe.errors import TranscribeError
from transcribe.review.dependencies import Listener, Site
from transcribe.speech.listening import listening_copy

router = APIRouter()


@router.get("/audio/{job_id}")
def audio(job_id: int, site: Site, session: Listener) -> Response:
    """The listening copy (16 kHz WAV) of a dictation, written with its draft (older jobs: decoded on first use);
    a doctor hears only his own."""
    job = site.job_or_404(job_id)
    if session.user.role == "doctor" and job.author != session.user.author:
        raise HTTPException(403, "error.not-yours")
    try:
        path = listening_copy(job, site.settings.paths.drafts / str(job.id))
    except TranscribeError as e:
        raise HTTPException(404, "error.audio-unplayable") from e
    return FileResponse(path, media_type="audio/wav")
