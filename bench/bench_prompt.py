"""Does an initial prompt of the author's terms help the engine? Measured on the dev corpus.

Three runs of the bundled model on every dictation of tests/dictations:
  none       no prompt (the cached raw transcripts);
  author     a prompt of the author's vocabulary: the dictation's own terms among distractors,
             25 terms in all. The prompt holds every term the dictation contains, which no real
             author file guarantees: its figures are an upper bound of what a prompt can give
             (bench/bench_biasing.py measures lists written without the dictation's terms);
  unrelated  a prompt of 25 terms none of which is dictated (a wrong or stale author file).
For each: WER and term recall after the text layer, prompt terms written although never said
(copies: counted as errors), and how many of those the text layer flags.

Usage: python bench/bench_prompt.py [--limit N]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_text import found, wer
from transcribe.records import transcript_from_json
from transcribe.settings import Settings
from transcribe.speech.audio import decode_dictation
from transcribe.speech.biasing import build_prompt
from transcribe.speech.engine import DecodeOptions
from transcribe.text import TextLayer
from transcribe.vocabulary.files import load_vocabulary
from transcribe.worker import load_recognizer

CORPUS = ROOT / "tests" / "dictations"
TERMS = 25


def distractors(vocabulary, language: str, exclude: set[str], seed: str) -> list[str]:
    drugs = sorted(t.text for t in vocabulary.languages[language].terms.values()
                   if t.kind == "drug" and t.source.endswith("curated.tsv") and t.text.lower() not in exclude)
    random.Random(seed).shuffle(drugs)
    return drugs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    vocabulary = load_vocabulary(ROOT / "vocab")
    layer = TextLayer(vocabulary)
    recognizer = load_recognizer(Settings())
    scripts = [json.loads(line) for line in (CORPUS / "scripts.jsonl").read_text().splitlines() if line.strip()]
    if args.limit:
        scripts = scripts[: args.limit]
    totals = {c: {"err": 0, "ref": 0, "terms": 0, "all_terms": 0, "copies": 0, "flagged": 0}
              for c in ("none", "author", "unrelated")}
    for script in scripts:
        lang = script["lang"]
        own = [t for t in script["terms"]]
        others = distractors(vocabulary, lang, {t.lower() for t in own}, script["id"])
        author_terms = own + others[: TERMS - len(own)]
        random.Random(script["id"] + "order").shuffle(author_terms)
        prompts = {"none": None, "author": build_prompt(author_terms, lang),
                   "unrelated": build_prompt(others[:TERMS], lang)}
        audio = decode_dictation(CORPUS / "audio" / f"{script['id']}.opus")
        for condition, prompt in prompts.items():
            if prompt is None:
                transcript = transcript_from_json(json.loads((CORPUS / "transcripts" / f"{script['id']}.json").read_text()))
            else:
                transcript = recognizer.transcribe(audio, DecodeOptions(
                    language=lang, initial_prompt=prompt.text, prompt_terms=prompt.terms))
            result = layer.clean(transcript)
            t = totals[condition]
            errors, size = wer(script["reference"], result.text)
            t["err"] += errors
            t["ref"] += size
            t["terms"] += sum(found(term, result.text) for term in script["terms"])
            t["all_terms"] += len(script["terms"])
            if prompt is not None:
                spoken = script["reference"].lower()
                copied = [term for term in prompt.terms if found(term, result.text) and not found(term, spoken)]
                flagged = {f.reason.split("'")[1] for f in result.flags if f.kind == "prompt-copy"}
                t["copies"] += len(copied)
                t["flagged"] += sum(term in flagged for term in copied)
                if copied:
                    print(f"{script['id']} {condition}: copied {copied}, flagged {sorted(flagged)}", file=sys.stderr)
    print(f"{'prompt':<11}{'WER':>7}{'term recall':>13}{'copied':>8}{'flagged':>9}")
    for condition, t in totals.items():
        print(f"{condition:<11}{t['err'] / t['ref']:>7.1%}{t['terms'] / t['all_terms']:>13.1%}"
              f"{t['copies']:>8}{t['flagged']:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
