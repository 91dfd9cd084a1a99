"""Transcribe the dev corpus (tests/dictations) with the bundled model and keep the raw transcripts.

Writes tests/dictations/transcripts/<id>.json (the engine's transcript, before the text
layer), so that the text layer can be measured and tested without running the model.
Options: the project defaults (bundled-base, beam 5, VAD), language as the script says.

Usage: python bench/transcribe_corpus.py [--force] [--prompt] [ID...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from transcribe.settings import Settings
from transcribe.speech.audio import decode_dictation
from transcribe.speech.engine import DecodeOptions
from transcribe.worker import load_recognizer

CORPUS = ROOT / "tests" / "dictations"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*")
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--out", type=Path, default=CORPUS / "transcripts")
    args = parser.parse_args()
    recognizer = load_recognizer(Settings())
    args.out.mkdir(parents=True, exist_ok=True)
    scripts = [json.loads(line) for line in (CORPUS / "scripts.jsonl").read_text().splitlines() if line.strip()]
    for script in scripts:
        if args.ids and script["id"] not in args.ids:
            continue
        target = args.out / f"{script['id']}.json"
        if target.exists() and not args.force:
            continue
        started = time.perf_counter()
        audio = decode_dictation(CORPUS / "audio" / f"{script['id']}.opus")
        transcript = recognizer.transcribe(audio, DecodeOptions(language=script["lang"]))
        target.write_text(json.dumps(transcript.to_json(), ensure_ascii=False, indent=1) + "\n")
        print(f"{script['id']}: {time.perf_counter() - started:.1f} s  {transcript.text[:90]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
