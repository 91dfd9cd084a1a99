"""Hostile input: every file ends handled or quarantined with a clear reason; the service stays up.

A real ``transcribe serve`` process watches a real inbox; the files are made here from the
committed clips (and synthesised noise and music). Nothing outside the site's folders is read
or written; folders are 0700 and files 0600; the logs never hold patient names or text.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from transcribe.intake.inbox import Intake
from transcribe.records import JobState
from transcribe.settings import Settings
from transcribe.store import JobStore, open_store

from .audio_files import clip_samples, write_audio
from .conftest import ENGINE_PASS_ONLY, copy_into, dictation, make_settings, wait_for

pytestmark = pytest.mark.engine  # runs the real model, here or in a child process (tests/each-cpu-isa.sh)

RATE = 16000


def _noise(seconds: float) -> np.ndarray:
    return (np.random.default_rng(1).normal(0, 0.25, int(RATE * seconds)) * 32767).clip(-32767, 32767).astype(np.int16)


def _music(seconds: float) -> np.ndarray:
    """Chords changing every 0.4 s and a drum beat: music, no speech."""
    t = np.arange(int(RATE * seconds)) / RATE
    notes = [220.0, 246.9, 261.6, 293.7, 329.6, 349.2, 392.0]
    out = np.zeros_like(t)
    for k in range(int(seconds / 0.4)):
        part = (t >= k * 0.4) & (t < (k + 1) * 0.4)
        root = notes[k % len(notes)]
        for ratio in (1.0, 1.25, 1.5, 2.0):
            out[part] += np.sin(2 * np.pi * root * ratio * t[part]) * 0.12
        beat = (t >= k * 0.4) & (t < k * 0.4 + 0.05)
        out[beat] += np.random.default_rng(k).normal(0, 0.3, beat.sum())
    return (out.clip(-1, 1) * 32767).astype(np.int16)


def _write_wav(samples: np.ndarray, path: Path, rate: int = RATE) -> Path:
    return write_audio(samples, path, rate=rate)


def _three_hours(path: Path) -> Path:
    import av

    with av.open(str(path), "w", format="flac") as container:
        stream = container.add_stream("flac", rate=8000, layout="mono")
        silence = np.zeros((1, 8000 * 60), dtype=np.int16)
        for _ in range(180):
            frame = av.AudioFrame.from_ndarray(silence, format="s16", layout="mono")
            frame.sample_rate = 8000
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def _states(settings: Settings) -> dict[str, tuple[JobState, str | None, int]]:
    store = open_store(settings.store_url)
    try:
        return {j.original_name: (j.state, j.error, j.id) for j in store.jobs.list_jobs(limit=1000)}
    finally:
        store.close()


def test_a_corpus_of_hostile_files(site: Path, service, tmp_path: Path) -> None:
    settings = make_settings(site, {**ENGINE_PASS_ONLY, "asr.beam_size": 1})  # hostile files, not hearing
    speech = clip_samples(dictation("fr-mg-001"))
    made = tmp_path / "made"
    made.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = copy_into(dictation("en-gp-001"), outside, "secret.opus")
    secret_before = (secret.read_bytes(), secret.stat().st_mtime_ns)

    files: dict[str, Path] = {}
    (made / "empty.wav").write_bytes(b"")
    files["empty.wav"] = made / "empty.wav"
    mp3 = write_audio(speech, made / "full.mp3").read_bytes()
    (made / "cut.mp3").write_bytes(mp3[: len(mp3) // 2])
    files["cut.mp3"] = made / "cut.mp3"
    m4a = write_audio(speech, made / "full.m4a").read_bytes()
    (made / "cut.m4a").write_bytes(m4a[: len(m4a) // 2])
    files["cut.m4a"] = made / "cut.m4a"
    (made / "letter.wav").write_text("Cher confrère, ceci est un texte et non un enregistrement.\n" * 30)
    files["letter.wav"] = made / "letter.wav"
    (made / "photo.mp3").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64)
    files["photo.mp3"] = made / "photo.mp3"
    files["three-hours.flac"] = _three_hours(made / "three-hours.flac")
    files["silence.wav"] = _write_wav(np.zeros(RATE * 20, dtype=np.int16), made / "silence.wav")
    files["noise.wav"] = _write_wav(_noise(12), made / "noise.wav")
    files["music.wav"] = _write_wav(_music(15), made / "music.wav")
    files["quiet.wav"] = _write_wav((speech * 0.02).astype(np.int16), made / "quiet.wav")
    files["clipped.wav"] = _write_wav((speech.astype(np.float32) * 12).clip(-32767, 32767).astype(np.int16), made / "clipped.wav")
    files["phone-8k.wav"] = _write_wav(speech[::2].copy(), made / "phone-8k.wav", rate=8000)
    files["stereo.wav"] = write_audio(np.stack([np.zeros_like(speech), speech]), made / "stereo.wav", channels=2)
    odd_names = ["consultation du matin.opus", "Été 😀 compte-rendu.opus", "-rf --force.opus", "rapport..v2.opus"]
    for number, name in enumerate(odd_names):
        # each a different recording (a hash is one dictation): the clip with a little noise of its own
        varied = (speech.astype(np.int32) + np.random.default_rng(number).integers(-40, 40, speech.size)).clip(-32767, 32767)
        files[name] = write_audio(varied.astype(np.int16), made / f"odd{number}.opus")
    sidecars = {
        "bad-sidecar.opus": b"{ this is not json",
        "huge-sidecar.opus": b'{"note": "' + b"x" * 100_000 + b'"}',
        "outside-sidecar.opus": json.dumps({"patient": {"id": "../../../etc/passwd"},
                                            "author": "../../../root"}).encode(),
        "named-sidecar.opus": json.dumps({"patient": {"family_name": "Quelquechose-Zéphirine", "given_names": "Aurélie",
                                                      "birth_date": "1961-07-14"}}).encode(),
    }
    for number, name in enumerate(sidecars):
        varied = (speech.astype(np.int32) + np.random.default_rng(100 + number).integers(-40, 40, speech.size))
        files[name] = write_audio(varied.clip(-32767, 32767).astype(np.int16), made / f"side{number}.opus")

    serve = service()
    wait_for(lambda: settings.paths.inbox.is_dir(), timeout_s=60)
    inbox = settings.paths.inbox / "dr-hostile"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "link-to-secret.opus").symlink_to(secret)  # a link pointing outside the inbox
    for name, source in files.items():
        if name in sidecars:
            (inbox / name).with_suffix(".json").write_bytes(sidecars[name])
        copy_into(source, inbox, name)
    # a file renamed while the watcher may be reading it
    copy_into(dictation("en-cardio-01"), inbox, "moving.opus")
    os.rename(inbox / "moving.opus", inbox / "moved.opus")
    expected_jobs = len(files) + 1

    def settled() -> bool:
        states = _states(settings)
        done = {JobState.DRAFTED, JobState.QUARANTINED}
        return len(states) >= expected_jobs and all(s in done for s, _, _ in states.values()) \
            and not [p for p in inbox.iterdir() if not p.name.startswith(".")]

    wait_for(settled, timeout_s=420, step_s=1.0)
    assert serve.running(), "the service stayed up"
    states = _states(settings)

    def quarantined(name: str, *words: str) -> None:
        state, error, _ = states[name]
        assert state is JobState.QUARANTINED, (name, state, error)
        assert all(w in (error or "") for w in words), (name, error)
        assert "What to do" in (error or "")

    quarantined("empty.wav", "empty")
    quarantined("cut.mp3", "truncated")
    quarantined("cut.m4a")
    quarantined("letter.wav", "not an audio file")
    quarantined("photo.mp3")
    quarantined("three-hours.flac", "too long")
    quarantined("silence.wav", "no speech")
    for name in ("noise.wav", "music.wav"):  # no report text from a file without speech
        state, _, job_id = states[name]
        if state is JobState.DRAFTED:
            text = (settings.paths.drafts / str(job_id) / "draft.txt").read_text().strip()
            assert not any(c.isalpha() for c in text), (name, text)
        else:
            quarantined(name, "no speech")
    for name in ["quiet.wav", "clipped.wav", "phone-8k.wav", "stereo.wav", *odd_names, *sidecars, "moved.opus"]:
        assert states[name][0] is JobState.DRAFTED, (name, states[name])
    quiet_text = (settings.paths.drafts / str(states["quiet.wav"][2]) / "draft.txt").read_text()
    assert "artérielle" in quiet_text and "65" in quiet_text  # very quiet speech is heard
    for name in ("bad-sidecar.json", "huge-sidecar.json", "outside-sidecar.json"):
        kept = list(settings.paths.quarantine.glob(f"*{name}"))
        assert kept, name
        assert json.loads(kept[0].with_name(kept[0].name + ".error.json").read_text())["kind"] == "sidecar-invalid"
    link = list(settings.paths.quarantine.glob("*link-to-secret.opus"))
    assert link and link[0].is_symlink()
    assert json.loads(link[0].with_name(link[0].name + ".error.json").read_text())["kind"] == "link"
    assert (secret.read_bytes(), secret.stat().st_mtime_ns) == secret_before  # nothing outside was touched
    from transcribe.intake.files import hash_file

    assert not list(settings.paths.archive.rglob(f"{hash_file(secret)}*"))  # ...nor read into the archive
    assert not (site.parent / "etc").exists() and not (site.parent / "root").exists()
    for path in settings.paths.quarantine.iterdir():
        assert not path.name.startswith(("-", ".")), path.name  # safe names, even for '-rf --force'
    assert serve.stop() == 0

    # private folders and files
    for root in (settings.paths.data, settings.paths.quarantine):
        for path in [root, *root.rglob("*")]:
            if path.is_symlink():
                continue
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    # the logs hold no patient name and no dictated text
    log = (site / "serve.log").read_text()
    for secret_word in ("Quelquechose", "Zéphirine", "Aurélie", "artérielle", "hypertension", "amlodipine", "Passions"):
        assert secret_word.lower() not in log.lower(), secret_word


def test_a_full_disk_leaves_the_file_in_the_inbox_and_the_intake_going(settings: Settings, store: JobStore,
                                                                      monkeypatch) -> None:
    first = copy_into(dictation("fr-mg-001"), settings.paths.inbox, "a.opus")

    def disk_full(*_args, **_kwargs):  # the archive's disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    intake = Intake(settings, store)
    monkeypatch.setattr("transcribe.intake.atomic.os.link", disk_full)
    assert intake._take_safely(first) is None  # no exception: the intake goes on
    assert first.exists()  # the dictation is still in the inbox, whole
    monkeypatch.undo()
    job = intake._take_safely(first)
    assert job is not None and job.audio_path.exists() and not first.exists()
    states = [j.state for j in store.jobs.list_jobs()]
    assert states == [JobState.QUEUED]


@pytest.mark.parametrize("name", ["a b.wav", "Été 😀.wav", "-rf.wav", "x..y.wav", "..wav"])
def test_names_never_escape_the_quarantine_folder(tmp_path: Path, name: str) -> None:
    from transcribe.intake.quarantine import quarantine_file

    source = tmp_path / "in" / name
    source.parent.mkdir()
    source.write_bytes(b"x")
    kept = quarantine_file(source, tmp_path / "q", original_name="../../" + name, job_id=7, kind="k", error="e",
                           what_to_do="w")
    assert kept.parent == tmp_path / "q" and kept.read_bytes() == b"x"
