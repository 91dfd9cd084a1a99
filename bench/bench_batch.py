"""The nightly batch on short dictations: `transcribe batch` against plain faster-whisper file by file, in one run.

The night: N dictations of 15 to 60 s (``--min-s``, ``--max-s``), each made of clips of the committed
corpus (tests/dictations: mbrola voices, 7 to 25 s each, French and English) joined with 0.6 s of
silence, written as Opus files, with their joined reference texts and medical terms. Two of three
are French.

What is measured, each on the same files, same model (bundled base, CPU int8), beam 5, VAD:

  faster-whisper   plain faster-whisper, file by file: ``WhisperModel.transcribe(path, beam_size=5,
                   vad_filter=True, word_timestamps=True)`` in this process, model already loaded
                   (warm), every core (``cpu_threads=0``); the language given (``--languages known``)
                   or detected by faster-whisper (``--languages detect``, as a new user's site does)
  transcribe batch the real ``transcribe batch --quiet`` as a whole command (cold: start-up, its engine
                   processes, model loads, intake, decoding, the engine, the text layer, the drafts
                   and the store), on a fresh site whose inbox holds the night, default settings
                   (``--languages known``: the authors' language is set in transcribe.toml;
                   ``detect``: nobody says it and the engine detects it, as on a new site)
  --also           the command again with other settings, e.g. ``--also "no packing:TRANSCRIBE_BATCH_PACKING=false"``

For each: wall time, audio-hours per wall-hour, its speed over faster-whisper, the CPU time it used
(user and system, every thread and process) and its speed-up in CPU time, WER and term recall of the
engine's text against the references (for the command, also of the drafted text after the text
layer), and the load average of the machine before and after. On a shared machine the wall times are
longer than a quiet one's and their ratio depends on who else ran meanwhile; the CPU times are
steadier, and the last line turns them into the audio-hours per hour a quiet machine with this many
cores would give if every core worked all the time (an upper bound). The targets of issue 26: at least 12 audio-hours per wall-hour and 3 times
faster-whisper file by file, with WER and term recall no worse.

Usage: python bench/bench_batch.py [--dictations 46] [--languages detect|known] [--min-s 15] [--max-s 60]
       [--seed 7] [--skip-raw] [--also "NAME:KEY=VALUE[,KEY=VALUE]"]... [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_text import found, wer  # noqa: E402
from tests.audio_files import write_audio  # noqa: E402
from transcribe.audio import SAMPLE_RATE, decode_dictation  # noqa: E402
from transcribe.records import transcript_from_json  # noqa: E402

CORPUS = ROOT / "tests" / "dictations"
GAP_S = 0.6


@dataclass
class Dictation:
    """One dictation of the night: its file, author, language, reference text and terms."""

    path: Path
    author: str
    language: str
    reference: str
    terms: list[str]
    duration_s: float


@dataclass
class Run:
    """What one way of transcribing the night gave."""

    name: str
    wall_s: float
    texts: list[str]
    drafts: list[str] = field(default_factory=list)
    said: str = ""
    load: tuple[float, float] = (0.0, 0.0)
    cpu_s: float = 0.0  # user + system time of every thread and process it ran


def make_night(count: int, inbox: Path, *, min_s: float, max_s: float, known: bool, seed: int) -> list[Dictation]:
    """Short dictations of corpus clips, written as Opus under ``inbox/<author>/``."""
    scripts = [json.loads(line) for line in (CORPUS / "scripts.jsonl").read_text().splitlines() if line.strip()]
    clips = {s["id"]: decode_dictation(CORPUS / "audio" / f"{s['id']}.opus").samples for s in scripts}
    rng = random.Random(seed)
    silence = np.zeros(int(GAP_S * SAMPLE_RATE), dtype=np.float32)
    night = []
    for number in range(count):
        language = "fr" if number % 3 else "en"
        pool = [s for s in scripts if s["lang"] == language]
        target_s = rng.uniform(min_s, max_s)
        parts: list[np.ndarray] = []
        chosen: list[dict] = []
        length = 0.0
        for script in rng.sample(pool, len(pool)):
            clip_s = clips[script["id"]].size / SAMPLE_RATE
            if length >= target_s:
                break
            if chosen and length + GAP_S + clip_s > max_s:
                continue
            parts += [silence, clips[script["id"]]] if parts else [clips[script["id"]]]
            chosen.append(script)
            length += clip_s + (GAP_S if len(chosen) > 1 else 0.0)
        author = f"dr-{language}" if known else "dr-bench"
        samples = (np.clip(np.concatenate(parts), -1, 1) * 32767).astype(np.int16)
        (inbox / author).mkdir(parents=True, exist_ok=True)
        path = write_audio(samples, inbox / author / f"{number:03d}.opus")
        night.append(
            Dictation(
                path,
                author,
                language,
                " ".join(s["reference"] for s in chosen),
                [t for s in chosen for t in s["terms"]],
                samples.size / SAMPLE_RATE,
            )
        )
    old = time.time() - 120  # complete: the batch takes files left alone for a while
    for item in night:
        os.utime(item.path, (old, old))
    return night


def run_faster_whisper(night: list[Dictation], known: bool) -> tuple[list[str], float, float]:
    """Plain faster-whisper, file by file, as its README shows; the model is loaded before the clock starts."""
    from faster_whisper import WhisperModel

    from transcribe.models import resolve_model
    from transcribe.settings import Settings

    settings = Settings()
    model = resolve_model(settings.asr.model, models_dir=settings.paths.models, cache_dir=settings.asr.model_cache)
    whisper = WhisperModel(model.load_from, device="cpu", compute_type="int8", cpu_threads=0)
    whisper.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32), language="en")  # warm
    texts = []
    started, cpu = time.perf_counter(), time.process_time()
    for item in night:
        segments, _ = whisper.transcribe(
            str(item.path),
            language=item.language if known else None,
            beam_size=5,
            vad_filter=True,
            word_timestamps=True,
        )
        texts.append(" ".join(s.text.strip() for s in segments))
    return texts, time.perf_counter() - started, time.process_time() - cpu


def make_site(folder: Path, night: list[Dictation], originals: Path, known: bool) -> Path:
    """A fresh site whose inbox holds the night (copies of the files, their old mtimes kept)."""
    site = folder
    if site.exists():
        shutil.rmtree(site)
    site.mkdir(parents=True)
    config = "[review]\nenabled = false\n"
    if known:
        config += '[authors.dr-fr]\nlanguage = "fr"\n[authors.dr-en]\nlanguage = "en"\n'
    (site / "transcribe.toml").write_text(config)
    shutil.copytree(originals, site / "inbox", copy_function=shutil.copy2)
    return site


def run_command(site: Path, night: list[Dictation], environment: dict[str, str]) -> Run:
    """The whole `transcribe batch --quiet` command; the engine's and the drafted texts of each dictation."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRANSCRIBE_")} | environment
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "transcribe", "-q", "batch", "--quiet"], cwd=site, capture_output=True, text=True, env=env
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and its engine processes, all reaped
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    texts, drafts = [""] * len(night), [""] * len(night)
    with sqlite3.connect(site / "data" / "store.sqlite3") as db:
        for job_id, name in db.execute("SELECT id, original_name FROM jobs"):
            number = int(Path(name).stem)
            folder = site / "data" / "drafts" / str(job_id)
            if (folder / "transcript.json").is_file():
                texts[number] = transcript_from_json(json.loads((folder / "transcript.json").read_text())).text
                drafts[number] = (folder / "draft.txt").read_text()
    said = done.stdout.strip().splitlines()[0] if done.stdout.strip() else f"exit {done.returncode}: {done.stderr[-300:]}"
    return Run("", wall, texts, drafts, said, cpu_s=cpu)


def accuracy(night: list[Dictation], texts: list[str]) -> tuple[float, float]:
    """WER (words, punctuation ignored) and term recall of texts against the night's references."""
    errors = size = terms = heard = 0
    for item, text in zip(night, texts):
        e, n = wer(item.reference, text)
        errors, size = errors + e, size + n
        terms += len(item.terms)
        heard += sum(found(term, text) for term in item.terms)
    return errors / max(1, size), heard / max(1, terms)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dictations", type=int, default=46)
    parser.add_argument("--languages", choices=["detect", "known"], default="detect")
    parser.add_argument("--min-s", type=float, default=15.0)
    parser.add_argument("--max-s", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-raw", action="store_true", help="only the command (no faster-whisper baseline)")
    parser.add_argument("--also", action="append", default=[], metavar="NAME:KEY=VALUE[,KEY=VALUE]")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    known = args.languages == "known"
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-batch-"))
    originals = folder / "night"
    night = make_night(args.dictations, originals, min_s=args.min_s, max_s=args.max_s, known=known, seed=args.seed)
    audio_s = sum(n.duration_s for n in night)
    durations = [n.duration_s for n in night]
    print(
        f"night: {len(night)} dictations (Opus), {audio_s / 60:.1f} min of audio, {min(durations):.0f}-"
        f"{max(durations):.0f} s each (mean {np.mean(durations):.0f} s); languages {args.languages}; "
        f"bundled base, CPU int8, beam 5, VAD; {os.cpu_count()} cores"
    )
    runs: list[Run] = []
    if not args.skip_raw:
        before = os.getloadavg()[0]
        texts, wall, cpu = run_faster_whisper(night, known)
        runs.append(Run("faster-whisper file by file (library, warm model, all cores)", wall, texts,
                        load=(before, os.getloadavg()[0]), cpu_s=cpu))
    variants = [("transcribe batch (whole command, cold, default settings)", {})]
    for spec in args.also:
        name, _, assignments = spec.partition(":")
        env = dict(pair.split("=", 1) for pair in assignments.split(",") if pair)
        variants.append((f"transcribe batch, {name}", env))
    for name, env in variants:
        site = make_site(folder / "site", night, originals, known)
        before = os.getloadavg()[0]
        run = run_command(site, night, env)
        run.name, run.load = name, (before, os.getloadavg()[0])
        runs.append(run)
    raw = runs[0] if not args.skip_raw else None
    print(f"{'':60} {'wall':>7} {'audio-h/h':>9} {'speed-up':>8} {'CPU':>7} {'CPU speed-up':>12} {'WER':>6} "
          f"{'terms':>6}  load avg before/after")
    for run in runs:
        error, recall = accuracy(night, run.texts)
        ratio = f"x{raw.wall_s / run.wall_s:.2f}" if raw else "-"
        cpu_ratio = f"x{raw.cpu_s / run.cpu_s:.2f}" if raw else "-"
        print(
            f"{run.name:<60} {run.wall_s:6.1f}s {audio_s / run.wall_s:9.1f} {ratio:>8} {run.cpu_s:6.1f}s {cpu_ratio:>12} "
            f"{error:6.1%} {recall:6.1%}  {run.load[0]:.1f} / {run.load[1]:.1f}"
        )
        if run.drafts:
            error, recall = accuracy(night, run.drafts)
            print(f"{'  the same, drafted text (after the text layer)':<60} {'':>7} {'':>9} {'':>8} {'':>7} {'':>12} "
                  f"{error:6.1%} {recall:6.1%}")
            print(f"    the command said: {run.said}")
    print(f"audio-h/h on a quiet {os.cpu_count()}-core machine, from the CPU time: "
          + ", ".join(f"{run.name.split(' (')[0].split(',')[0]} {audio_s / (run.cpu_s / (os.cpu_count() or 1)):.1f}"
                      for run in runs))
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: {own:.0f} MiB (this process: faster-whisper), {children:.0f} MiB (largest engine process)")
    print("targets (issue 26): `transcribe batch` >= 12 audio-h/h and >= x3 over faster-whisper, WER and terms no worse")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
