"""Biasing benchmark: does telling the engine which words to expect make it hear the medical words?

Runs the bundled model (CPU int8, beam 5, VAD) on every dictation of tests/dictations with:
  none       no biasing list;
  specialty  the list of the dictation's specialty (vocab/<lang>/specialties/, written for the
             specialty, not from the corpus's scripts);
  history    the specialty list after the "author history": the drugs and diagnoses of the
             references of the OTHER dictations of the same specialty, most frequent first (what
             learning from an author's validated reports gives; never the dictation's own text);
For each: WER and medical-term recall after the text layer (the script's `terms`), drug-name
recall, drug names written although never dictated, list terms copied (written, not dictated) and
how many of those the text layer flagged, and the engine's time (whole decode, warm model). With
--general, the real general-speech clips of ../shared/audio are decoded with and without the
general-practice list: list terms written there were never said.

The audio's evidence on the medical words (transcribe/speech/acoustic.py) is measured by bench/bench_terms.py;
here the text layer runs on the transcript alone.

Usage: python bench/bench_biasing.py [--limit N] [--conditions none,specialty,history] [--general]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_text import found, wer
from transcribe.settings import Settings
from transcribe.speech.audio import decode_dictation
from transcribe.speech.biasing import MAX_HOTWORD_TERMS, BiasingList, build_biasing, terms_in
from transcribe.speech.engine import DecodeOptions
from transcribe.text import TextLayer
from transcribe.vocabulary.files import load_vocabulary
from transcribe.worker import load_recognizer

CORPUS = ROOT / "tests" / "dictations"
SHARED = ROOT.parent / "shared" / "audio"
#: the specialty of each dictation of the corpus, from its name (fr-cardio-01: cardiology)
SPECIALTY_OF = {
    "cardio": "cardiology", "endo": "endocrinology", "pneumo": "pulmonology", "pulm": "pulmonology",
    "neuro": "neurology", "gastro": "gastroenterology", "gi": "gastroenterology", "rhumato": "rheumatology",
    "rheum": "rheumatology", "dermato": "dermatology", "uro": "urology", "psy": "psychiatry", "psych": "psychiatry",
    "mg": "general-practice", "gp": "general-practice", "courrier": "general-practice", "hospit": "general-practice",
    "discharge": "general-practice", "operatoire": "general-surgery", "imagerie": "radiology",
    "geriatrie": "geriatrics", "nephro": "nephrology", "renal": "nephrology", "id": "infectious-diseases",
    "dose": "general-practice", "safety": "general-practice", "literal": "general-practice",
}
CONDITIONS = ("none", "specialty", "history")


def specialty_of(script_id: str) -> str:
    return SPECIALTY_OF.get(script_id.split("-")[1], "general-practice")


def history_terms(scripts: list[dict], script: dict, vocabulary) -> list[str]:
    """The drugs and diagnoses of the other dictations of the same language and specialty, most frequent first."""
    vocab = vocabulary.for_language(script["lang"])
    others = [s["reference"] for s in scripts if s["id"] != script["id"] and s["lang"] == script["lang"]
              and specialty_of(s["id"]) == specialty_of(script["id"])]
    return [term for term, _ in terms_in(others, vocab)]


def biasing_of(condition: str, script: dict, scripts: list[dict], vocabulary, max_terms: int) -> BiasingList:
    vocab = vocabulary.for_language(script["lang"])
    if condition == "none":
        return BiasingList()
    groups = []
    if condition == "history":
        groups.append(("learned", history_terms(scripts, script, vocabulary)))
    groups.append(("specialty", vocab.specialty_terms.get(specialty_of(script["id"]), ())))
    return build_biasing(groups, max_terms=max_terms)


def is_drug(vocabulary, language: str, word: str) -> bool:
    term = vocabulary.for_language(language).term(word)
    return term is not None and term.is_drug


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--conditions", default=",".join(CONDITIONS))
    parser.add_argument("--general", action="store_true", help="also decode ../shared/audio with and without a list")
    parser.add_argument("--details", action="store_true")
    parser.add_argument("--max-terms", type=int, default=MAX_HOTWORD_TERMS, help="longest biasing list")
    args = parser.parse_args()
    conditions = [c for c in args.conditions.split(",") if c in CONDITIONS]
    vocabulary = load_vocabulary(ROOT / "vocab")
    layer = TextLayer(vocabulary)
    layer.warm_up()
    recognizer = load_recognizer(Settings())
    scripts = [json.loads(line) for line in (CORPUS / "scripts.jsonl").read_text().splitlines() if line.strip()]
    chosen = scripts[: args.limit] if args.limit else scripts
    totals = {c: Counter() for c in conditions}
    for script in chosen:
        language = script["lang"]
        audio = decode_dictation(CORPUS / "audio" / f"{script['id']}.opus")
        reference = script["reference"]
        for condition in conditions:
            biasing = biasing_of(condition, script, scripts, vocabulary, args.max_terms)
            options = DecodeOptions(language=language, hotwords=biasing.hotwords, prompt_terms=biasing.terms,
                                    biasing=biasing.to_json())
            began = time.perf_counter()
            transcript = recognizer.transcribe(audio, options)
            asr_s = time.perf_counter() - began
            result = layer.clean(transcript)
            t = totals[condition]
            errors, size = wer(reference, result.text)
            t["errors"] += errors
            t["words"] += size
            t["asr_s"] += asr_s
            t["audio_s"] += transcript.duration_s
            for term in script["terms"]:
                t["terms"] += 1
                t["heard"] += found(term, result.text)
                if is_drug(vocabulary, language, term):
                    t["drugs"] += 1
                    t["drugs_heard"] += found(term, result.text)
            written = {w for w in result.text.replace(",", " ").replace(".", " ").split()
                       if is_drug(vocabulary, language, w)}
            invented = [w for w in written if not found(w, reference)]
            t["invented_drugs"] += len(invented)
            copied = [term for term in biasing.terms if found(term, result.text) and not found(term, reference)]
            flagged = {result.text[f.text_start:f.text_end].lower() for f in result.flags if f.kind == "prompt-copy"}
            t["copies"] += len(copied)
            t["copies_flagged"] += sum(term.lower() in flagged for term in copied)
            if args.details and (invented or copied):
                print(f"  {script['id']} {condition}: drugs never dictated {invented}, list terms copied {copied}",
                      file=sys.stderr)
        print(f"{script['id']}: done", file=sys.stderr)

    print(f"\n{len(chosen)} dictations of the dev corpus (bundled base, CPU int8, beam 5; lists of at most "
          f"{args.max_terms} terms)\n")
    print(f"{'condition':<11}{'WER':>7}{'terms':>8}{'drugs':>8}{'drugs never said':>18}{'copies (flagged)':>18}"
          f"{'ASR time':>10}{'x none':>8}")
    base = totals.get("none", Counter()).get("asr_s") or None
    for condition, t in totals.items():
        ratio = f"{t['asr_s'] / base:.2f}" if base else "-"
        print(f"{condition:<11}{t['errors'] / max(1, t['words']):>7.1%}{t['heard'] / max(1, t['terms']):>8.1%}"
              f"{t['drugs_heard'] / max(1, t['drugs']):>8.1%}{t['invented_drugs']:>18}"
              f"{str(t['copies']) + ' (' + str(t['copies_flagged']) + ')':>18}{t['asr_s']:>9.1f}s{ratio:>8}")
    if args.general and SHARED.is_dir():
        general(recognizer, vocabulary)
    return 0


def general(recognizer, vocabulary) -> None:
    """List terms written on general (non-medical) real speech: never said, by construction."""
    rows = [line.split("\t") for line in (SHARED / "transcripts.tsv").read_text().splitlines()[1:] if "\t" in line]
    for language in ("fr", "en"):
        vocab = vocabulary.for_language(language)
        biasing = build_biasing([("specialty", vocab.specialty_terms["general-practice"])])
        copies, words, clips, seconds = 0, 0, 0, [0.0, 0.0]
        for name, reference, *_ in rows:
            if not name.startswith(language + "/"):
                continue
            audio = decode_dictation(SHARED / name)
            for number, hotwords in enumerate((None, biasing.hotwords)):
                began = time.perf_counter()
                transcript = recognizer.transcribe(audio, DecodeOptions(language=language, hotwords=hotwords))
                seconds[number] += time.perf_counter() - began
                if hotwords:
                    copies += sum(found(t, transcript.text) and not found(t, reference) for t in biasing.terms)
                    words += len(reference.split())
                    clips += 1
        print(f"general speech ({language}, {clips} clips, {words} words): {copies} list terms written, never said; "
              f"ASR time {seconds[1] / max(seconds[0], 1e-9):.2f}x")


if __name__ == "__main__":
    sys.exit(main())
