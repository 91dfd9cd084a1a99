"""Pipeline overhead: the whole pipeline vs raw faster-whisper on the same clips, same model and options.

For each clip, in alternating order to cancel drift, it times:
  raw       faster-whisper's WhisperModel.transcribe on the file (segments consumed), and
  pipeline  intake (hash, archive copy, job store) + worker (decode, transcribe, draft text,
            transcript JSON, DOCX, job store), in a fresh temporary site.
Both engines are loaded once, with the same model folder, device, compute type, threads,
beam size, VAD and word timestamps. Prints wall times, their ratio, the real-time factor
and the peak RSS. Target: pipeline at most 5% slower than raw.

Usage: python bench/bench_pipeline.py [--rounds N] [CLIP...]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faster_whisper import WhisperModel

from transcribe.intake.inbox import Intake
from transcribe.settings_loading import load_settings
from transcribe.speech.audio import decode_dictation
from transcribe.store import open_store
from transcribe.worker import Worker, load_recognizer, load_text_layer


def default_clips() -> list[Path]:
    shared = ROOT.parent / "shared" / "audio"
    clips = sorted((ROOT / "tests" / "dictations" / "audio").glob("*.opus"))
    if shared.is_dir():
        clips += [shared / "en" / "fw_jfk.flac", shared / "fr" / "sr_french.aiff"]
        clips += sorted((shared / "en").glob("fleurs-en-00[0-2].ogg"))
        clips += sorted((shared / "en").glob("ps_librivox_ss01_*.wav"))[:2]
    return clips


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    clips = args.clips or default_clips()
    audio_s = sum(decode_dictation(c).duration_s for c in clips)

    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    settings = load_settings(cwd=work, environ={}).settings
    recognizer = load_recognizer(settings)
    text_layer = load_text_layer(settings)
    raw = WhisperModel(recognizer.model.load_from, device=recognizer.device,
                       compute_type=recognizer.compute_type, cpu_threads=recognizer.cpu_threads)
    options = dict(beam_size=settings.asr.beam_size, vad_filter=settings.asr.vad_filter, word_timestamps=True)

    def run_raw(clip: Path) -> None:
        segments, _ = raw.transcribe(str(clip), **options)
        for _ in segments:
            pass

    def run_pipeline(clip: Path, round_number: int) -> None:
        site = work / f"site-{round_number}-{clip.stem}"
        site.mkdir()
        s = load_settings(cwd=site, environ={}).settings
        store = open_store(s.store_url)
        job = Intake(s, store).take(clip, keep_original=True)
        if job is None:
            raise SystemExit(f"{clip}: not taken")
        Worker(s, store, recognizer, text_layer).run_next()
        store.close()

    run_raw(clips[0])  # warm both paths (caches, lazy imports) before timing
    run_pipeline(clips[0], -1)
    raw_s = pipeline_s = 0.0
    for round_number in range(args.rounds):
        for clip in clips:
            order = ("raw", "pipeline") if round_number % 2 == 0 else ("pipeline", "raw")
            for which in order:
                started = time.perf_counter()
                run_raw(clip) if which == "raw" else run_pipeline(clip, round_number)
                elapsed = time.perf_counter() - started
                if which == "raw":
                    raw_s += elapsed
                else:
                    pipeline_s += elapsed
    shutil.rmtree(work, ignore_errors=True)

    total_audio = audio_s * args.rounds
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"clips: {len(clips)}, audio {audio_s:.1f} s, rounds {args.rounds}; model {recognizer.model.name} "
          f"on {recognizer.device} ({recognizer.compute_type}, {recognizer.cpu_threads} threads), "
          f"beam {options['beam_size']}, VAD {options['vad_filter']}")
    print(f"raw faster-whisper : {raw_s:8.2f} s wall   real-time factor {raw_s / total_audio:.3f} "
          f"({total_audio / raw_s:.1f}x real time)")
    print(f"pipeline           : {pipeline_s:8.2f} s wall   real-time factor {pipeline_s / total_audio:.3f} "
          f"({total_audio / pipeline_s:.1f}x real time)")
    overhead = pipeline_s / raw_s - 1
    print(f"pipeline / raw     : {pipeline_s / raw_s:.3f}  (overhead {overhead * 100:+.1f}%, target at most +5%)")
    print(f"peak RSS           : {peak_mib:.0f} MiB (both engines loaded in one process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
