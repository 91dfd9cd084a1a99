"""Nightly batch throughput on a realistic night, next to raw faster-whisper, same model, in one run.

The night: N dictations of 30 s to 3 min, each made by joining clips of the dev corpus
(tests/dictations, same language, half a second of silence between), with their joined
reference texts. Compared, with the bundled model, beam 5, VAD and word timestamps:

  sequential   faster-whisper WhisperModel.transcribe, file by file (library call, model loaded)
  batched      faster-whisper BatchedInferencePipeline, file by file (batch size B) (library call)
  cross-file   transcribe's cross-file batching, SpeechRecognizer.transcribe_batch: speech clips of a
               window of files share the batches (a library call with the model already loaded:
               1 process x all threads, and P processes x 1 thread each, each loading its model)
  command      the real `transcribe batch --quiet` as a whole process on a site whose inbox holds the
               night: start-up, model load, intake, decoding, text layer, drafts and store included

For each: wall time, audio-hours per wall-hour, WER against the references (engine text,
before the text layer; for the command, the drafted text after it), and peak memory. Target (issue 6): at least 12 audio-hours per
wall-hour on 2 cores with the bundled base model, accuracy no worse than sequential.

Usage: python bench/bench_batch.py [--files 24] [--batch-size 8] [--window 16] [--skip-sequential]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_text import wer  # noqa: E402
from transcribe.asr import DecodeOptions  # noqa: E402
from transcribe.audio import SAMPLE_RATE, decode_dictation  # noqa: E402
from transcribe.settings import AsrSettings, Settings  # noqa: E402
from transcribe.worker import load_recognizer  # noqa: E402

CORPUS = ROOT / "tests" / "dictations"


def make_night(count: int, folder: Path, seed: int = 7) -> list[dict]:
    """Realistic dictations (30 s to 3 min) made of corpus clips, with references; written as .npy."""
    scripts = [json.loads(line) for line in (CORPUS / "scripts.jsonl").read_text().splitlines() if line.strip()]
    rng = random.Random(seed)
    clips = {s["id"]: decode_dictation(CORPUS / "audio" / f"{s['id']}.opus").samples for s in scripts}
    night = []
    for number in range(count):
        language = "fr" if number % 3 else "en"
        pool = [s for s in scripts if s["lang"] == language]
        target_s = rng.uniform(30, 180)
        parts, texts, length = [], [], 0.0
        while length < target_s:
            script = rng.choice(pool)
            parts += [clips[script["id"]], np.zeros(SAMPLE_RATE // 2, dtype=np.float32)]
            texts.append(script["reference"])
            length += clips[script["id"]].size / SAMPLE_RATE + 0.5
        path = folder / f"night-{number:02d}.npy"
        np.save(path, np.concatenate(parts))
        night.append({"path": str(path), "language": language, "reference": " ".join(texts), "duration_s": length})
    return night


def score(night: list[dict], texts: list[str]) -> float:
    errors = size = 0
    for item, text in zip(night, texts):
        e, n = wer(item["reference"], text)
        errors, size = errors + e, size + n
    return errors / size


def run_sequential(recognizer, night: list[dict]) -> list[str]:
    return _file_by_file(recognizer._whisper.transcribe, night, vad_filter=True)


def run_batched_per_file(recognizer, night: list[dict], batch_size: int) -> list[str]:
    from faster_whisper import BatchedInferencePipeline

    return _file_by_file(BatchedInferencePipeline(recognizer._whisper).transcribe, night, batch_size=batch_size)


def _file_by_file(transcribe, night: list[dict], **options) -> list[str]:
    """Raw faster-whisper, one file at a time, beam 5 with word times (as the pipeline decodes)."""
    out = []
    for item in night:
        segments, _ = transcribe(np.load(item["path"]), language=item["language"], beam_size=5,
                                 word_timestamps=True, **options)
        out.append(" ".join(s.text.strip() for s in segments))
    return out


def run_cross_file(recognizer, night: list[dict], batch_size: int, window: int, beam: int = 5) -> list[str]:
    from transcribe.audio import DecodedAudio

    out: list[str] = []
    for start in range(0, len(night), window):
        items = []
        for item in night[start:start + window]:
            samples = np.load(item["path"])
            items.append((DecodedAudio(samples, samples.size / SAMPLE_RATE, SAMPLE_RATE, 1, "pcm"),
                          DecodeOptions(language=item["language"], beam_size=beam)))
        out += [t.text if hasattr(t, "text") else "" for t in recognizer.transcribe_batch(items, batch_size)]
    return out


def child(args: argparse.Namespace) -> int:
    """One of P processes: transcribe a share of the night with cpu_threads threads, print the texts as JSON."""
    night = json.loads(Path(args.child).read_text())
    recognizer = load_recognizer(Settings(asr=AsrSettings(cpu_threads=args.threads)))
    texts = run_cross_file(recognizer, night, args.batch_size, args.window, args.beam)
    print(json.dumps(texts))
    return 0


def run_processes(night: list[dict], processes: int, batch_size: int, window: int, folder: Path, beam: int = 5
                  ) -> list[str]:
    shares = [night[i::processes] for i in range(processes)]
    running = []
    for number, share in enumerate(shares):
        path = folder / f"share-{number}.json"
        path.write_text(json.dumps(share))
        running.append(subprocess.Popen(
            [sys.executable, __file__, "--child", str(path), "--threads", "1", "--batch-size", str(batch_size),
             "--window", str(window), "--beam", str(beam)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
    results = [json.loads(p.communicate()[0]) for p in running]
    texts: list[str] = [""] * len(night)
    for number, share_texts in enumerate(results):
        for k, text in enumerate(share_texts):
            texts[number + k * processes] = text
    return texts


def run_command(night: list[dict], folder: Path) -> tuple[list[str], str]:
    """The whole `transcribe batch` command on a fresh site holding the night; the drafted texts."""
    import wave

    site = folder / "site"
    (site / "inbox" / "dr-bench").mkdir(parents=True)
    (site / "transcribe.toml").write_text("[review]\nenabled = false\n")
    for number, item in enumerate(night):
        samples = (np.clip(np.load(item["path"]), -1, 1) * 32767).astype(np.int16)
        with wave.open(str(site / "inbox" / "dr-bench" / f"{number:03d}.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(SAMPLE_RATE)
            out.writeframes(samples.tobytes())
    done = subprocess.run([sys.executable, "-m", "transcribe", "-q", "batch", "--quiet"], cwd=site,
                          capture_output=True, text=True)
    texts = [""] * len(night)
    import sqlite3

    with sqlite3.connect(site / "data" / "store.sqlite3") as db:
        for job_id, name in db.execute("SELECT id, original_name FROM jobs"):
            number = int(Path(name).stem)
            draft = site / "data" / "drafts" / str(job_id) / "draft.txt"
            if draft.is_file():
                texts[number] = draft.read_text()
    return texts, done.stdout.strip().splitlines()[0] if done.stdout.strip() else done.stderr[-200:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--window", type=int, default=16)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--skip-sequential", action="store_true")
    parser.add_argument("--skip-raw", action="store_true", help="only the cross-file batch")
    parser.add_argument("--beam", type=int, default=5, help="beam size of the cross-file batch (raw runs: 5)")
    parser.add_argument("--child")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.child:
        return child(args)
    with tempfile.TemporaryDirectory(prefix="bench-night-") as folder:
        night = make_night(args.files, Path(folder))
        audio_s = sum(n["duration_s"] for n in night)
        recognizer = load_recognizer(Settings())
        print(f"night: {len(night)} dictations, {audio_s / 60:.1f} min of audio "
              f"({min(n['duration_s'] for n in night):.0f}-{max(n['duration_s'] for n in night):.0f} s); "
              f"model {recognizer.model.name}, {recognizer.device} {recognizer.compute_type}, "
              f"{recognizer.cpu_threads} threads, beam 5, batch {args.batch_size}, window {args.window}")
        runs = []
        if not args.skip_sequential and not args.skip_raw:
            runs.append(("sequential (raw, file by file)", lambda: run_sequential(recognizer, night)))
        if not args.skip_raw:
            runs.append((f"batched (raw, file by file, batch {args.batch_size})",
                         lambda: run_batched_per_file(recognizer, night, args.batch_size)))
        runs.append((f"cross-file batch, beam {args.beam}, 1 process x {recognizer.cpu_threads} threads",
                     lambda: run_cross_file(recognizer, night, args.batch_size, args.window, args.beam)))
        runs.append((f"cross-file batch, beam {args.beam}, {args.processes} processes x 1 thread",
                     lambda: run_processes(night, args.processes, args.batch_size, args.window, Path(folder),
                                           args.beam)))
        said: list[str] = []

        def command() -> list[str]:
            texts, summary = run_command(night, Path(folder))
            said.append(summary)
            return texts

        runs.append(("`transcribe batch` command, whole process (default settings)", command))
        for name, run in runs:
            started = time.perf_counter()
            texts = run()
            wall = time.perf_counter() - started
            print(f"{name:<60} {wall:7.1f} s  {audio_s / wall:5.1f} audio-h/h  WER {score(night, texts):.1%}")
        if said:
            print(f"  the command said: {said[0]}")
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak RSS: {own:.0f} MiB (this process), {children:.0f} MiB (largest child); cores: {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
