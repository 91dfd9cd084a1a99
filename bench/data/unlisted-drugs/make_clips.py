"""Synthesise the unlisted-drug clips of bench/bench_terms.py --unlisted.

Real medicines our lexicons do not list (every other brand of bench/data/unlisted-drugs.txt, other countries'),
each dictated in a sentence, French and English, by mbrola voices the dev corpus does not use (fr2, fr5,
us2, us3), so that the audio's rule is not measured on the voices it was calibrated on. Writes
<name>-<lang>.opus and clips.json (file, lang, name). Needs espeak-ng and the mbrola voices (see
tests/dictations/synthesise.py).

Usage: python bench/data/unlisted-drugs/make_clips.py [--force]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

from tests.dictations.synthesise import speak, write_opus

SENTENCES = {
    "fr": ("Patient sous {name} depuis le mois de mars, à poursuivre.", "mb-fr2", "mb-fr5"),
    "en": ("The patient has been on {name} since March, to be continued.", "mb-us2", "mb-us3"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    names = [n.strip() for n in (ROOT / "bench" / "data" / "unlisted-drugs.txt").read_text().splitlines()
             if n.strip() and not n.startswith("#")][::2]  # every other name: the repository stays small
    listing = []
    for number, name in enumerate(names):
        for lang, (sentence, *voices) in SENTENCES.items():
            voice = voices[number % len(voices)]
            target = HERE / f"{re.sub(r'[^A-Za-z0-9]+', '-', name).lower()}-{lang}.opus"
            if args.force or not target.exists():
                samples, rate = speak(sentence.format(name=name), voice, 140)
                silence = np.zeros(rate // 2, dtype=np.int16)
                write_opus(np.concatenate([silence, samples, silence]), rate, target, bit_rate=12000)
            listing.append({"file": target.name, "lang": lang, "name": name, "voice": voice})
    (HERE / "clips.json").write_text(json.dumps(listing, ensure_ascii=False, indent=1) + "\n")
    print(f"{len(listing)} clips in {HERE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
