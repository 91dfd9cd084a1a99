"""The audio's evidence on the medical words: recall, wrong corrections, list terms never said, cost.

For each dictation of the dev corpus (tests/dictations, bundled base, CPU int8, beam 5, VAD) and each
condition (`none`: no biasing list; `specialty`: the dictation's specialty list; `guessed`: no specialty
configured, the list of the one the worker's first pass hears), the engine's
transcript is cleaned by the text layer twice: alone, and with the audio's evidence
(transcribe/speech/acoustic.py: the doubtful stretches' candidate spellings scored against the recording,
judged by the calibrated rule of transcribe/text/evidence.py). Printed for both:
  WER; medical-term recall and drug recall (the script's `terms`); corrections made by the audio
  (`term-audio` edits) and how many were wrong (the term is not in the reference); drugs written that
  were never dictated; list terms written that were never dictated (and how many the audio took back);
  where a dictated term was flagged rather than written, whether it is among the flag's first three
  audio-ranked choices.
Then, with --general, the real general-speech clips of ../shared/audio decoded with EVERY specialty's
list of their language: list terms written that were never said, words the layer changed; with
--unlisted, the clips of bench/data/unlisted-drugs/ (real drug names our lexicons lack, synthesised
in sentences): how many were changed into another drug. --curve prints right against wrong
corrections as each threshold of the rule moves (the operating point is chosen there). --timing N
measures, on N dictations without any cache, the engine's time with and without the audio's evidence
(library calls, warm model) and the whole `transcribe run` command with `asr.audio_evidence` on and off.

Decodes and scores are cached in bench/.cache/terms/ (delete it after changing the engine or the
questions). Usage:
  python bench/bench_terms.py [--conditions none,specialty] [--general] [--unlisted] [--curve] [--timing N]
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import pickle
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np

from bench.bench_biasing import biasing_of
from bench.bench_text import found, wer
from transcribe.learning.calibration import GRID, Case, choose, curve, found_inflected, tally
from transcribe.records import Transcript, transcript_from_json
from transcribe.settings import Settings
from transcribe.speech.acoustic import with_audio_evidence
from transcribe.speech.audio import decode_dictation
from transcribe.speech.biasing import build_biasing
from transcribe.speech.engine import DecodeOptions, EncodedClip
from transcribe.text import TextLayer
from transcribe.text.evidence import RULES, AudioRule
from transcribe.vocabulary.folding import fold
from transcribe.vocabulary.files import load_vocabulary
from transcribe.vocabulary.specialties import SPECIALTIES
from transcribe.worker import first_pass_specialty, load_recognizer

CORPUS = ROOT / "tests" / "dictations"
SHARED = ROOT.parent / "shared" / "audio"
UNLISTED = ROOT / "bench" / "data" / "unlisted-drugs"
CACHE = ROOT / "bench" / ".cache" / "terms"
MODEL = "bundled-base"


class Engine:
    """The real engine, with its decodes and scores kept on disk (a bench re-run reads them back)."""

    def __init__(self, cached: bool = True) -> None:
        self.cached = cached
        self._recognizer: Any = None
        self._scores: dict[tuple[Any, ...], float] = {}
        self._continued: dict[tuple[Any, ...], str] = {}
        self._store = CACHE / "scores.pkl"
        if cached and self._store.exists():
            self._scores, self._continued = pickle.loads(self._store.read_bytes())

    @property
    def recognizer(self) -> Any:
        if self._recognizer is None:
            self._recognizer = load_recognizer(Settings())
        return self._recognizer

    def save(self) -> None:
        if self.cached:
            CACHE.mkdir(parents=True, exist_ok=True)
            partial = self._store.with_suffix(f".{id(self)}.part")
            partial.write_bytes(pickle.dumps((self._scores, self._continued)))
            partial.replace(self._store)

    def decode(self, name: str, path: Path, options: DecodeOptions, condition: str) -> tuple[Transcript, float]:
        target = CACHE / MODEL / condition / f"{name}.json"
        if self.cached and target.exists():
            data = json.loads(target.read_text())
            return transcript_from_json(data["transcript"]), float(data["asr_s"])
        audio = decode_dictation(path)
        began = time.perf_counter()
        transcript = self.recognizer.transcribe(audio, options)
        asr_s = time.perf_counter() - began
        if self.cached:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps({"transcript": transcript.to_json(), "asr_s": asr_s}, ensure_ascii=False))
        return transcript, asr_s

    # the SpeechRecognizer API that transcribe.speech.acoustic uses, with a cache in front
    def encode_clip(self, samples: np.ndarray, language: str) -> Any:
        return ("clip", samples, language, (samples.size, round(float(np.abs(samples).sum()), 3)))

    def _encoded(self, clip: Any) -> EncodedClip:
        _, samples, language, _ = clip
        return self.recognizer.encode_clip(samples, language)

    def score_texts(self, clip: Any, texts: list[str]) -> list[float]:
        key = clip[3]
        missing = [t for t in dict.fromkeys(texts) if (key, t) not in self._scores]
        if missing:
            encoded = self._encoded(clip)
            for text, score in zip(missing, self.recognizer.score_texts(encoded, missing)):
                self._scores[(key, text)] = score
        return [self._scores[(key, t)] for t in texts]

    def continue_text(self, clip: Any, prefix: str, *, max_tokens: int, beam_size: int = 5) -> str:
        key = (clip[3], prefix, max_tokens, beam_size)
        if key not in self._continued:
            self._continued[key] = self.recognizer.continue_text(
                self._encoded(clip), prefix, max_tokens=max_tokens, beam_size=beam_size
            )
        return self._continued[key]


def scripts() -> list[dict]:
    return [json.loads(line) for line in (CORPUS / "scripts.jsonl").read_text().splitlines() if line.strip()]


def is_drug(vocab: Any, word: str) -> bool:
    term = vocab.term(word)
    return term is not None and term.is_drug


def with_rule(transcript: Transcript, rule: AudioRule) -> Transcript:
    return dataclasses.replace(transcript, options={**transcript.options, "audio_rule": rule.to_json()})


def weighed(engine: Engine, layer: TextLayer, transcript: Transcript, path: Path) -> Transcript:
    audio = decode_dictation(path)
    return with_audio_evidence(engine, audio, transcript, layer.audio_questions(transcript))  # type: ignore[arg-type]


def dev(engine: Engine, layer: TextLayer, vocabulary: Any, conditions: list[str], rule: AudioRule,
        details: bool) -> dict[str, list[dict[str, Any]]]:
    """Every dev dictation's transcript with its evidence, per condition (kept for the curve)."""
    all_scripts = scripts()
    out: dict[str, list[dict[str, Any]]] = {}
    for condition in conditions:
        rows = []
        for script in all_scripts:
            path = CORPUS / "audio" / f"{script['id']}.opus"
            if condition == "guessed":  # no specialty configured: the worker's first pass chooses one
                biasing = guessed_biasing(engine, layer, vocabulary, script, path)
            else:
                biasing = biasing_of(condition, script, all_scripts, vocabulary, 30)
            options = DecodeOptions(language=script["lang"], hotwords=biasing.hotwords, prompt_terms=biasing.terms,
                                    biasing=biasing.to_json() if biasing.terms else None)
            transcript, asr_s = engine.decode(script["id"], path, options, condition)
            rows.append({"script": script, "transcript": weighed(engine, layer, transcript, path), "asr_s": asr_s})
        engine.save()
        out[condition] = rows
        print_dev(condition, rows, layer, vocabulary, rule, details)
    return out


def guessed_biasing(engine: Engine, layer: TextLayer, vocabulary: Any, script: dict, path: Path) -> Any:
    """The list the worker gives a dictation whose specialty nobody set: the one its first pass hears."""
    target = CACHE / MODEL / "guessed" / f"{script['id']}.specialty"
    if target.exists():
        specialty = target.read_text()
    else:
        specialty = first_pass_specialty(engine.recognizer, layer, decode_dictation(path), script["lang"],
                                         vocabulary.for_language(script["lang"]), Settings().asr.first_pass_s)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(specialty)
    vocab = vocabulary.for_language(script["lang"])
    groups = [("specialty", vocab.specialty_terms.get(specialty, ()))] if specialty else []
    return dataclasses.replace(build_biasing(groups), specialty=specialty,
                               specialty_source="first-pass" if specialty else "")


def measure(rows: list[dict[str, Any]], layer: TextLayer, vocabulary: Any, rule: AudioRule | None,
            details: bool = False) -> Counter[str]:
    """The figures of one condition, with the audio's rule (None: the text layer alone)."""
    t: Counter[str] = Counter()
    for row in rows:
        script, transcript = row["script"], row["transcript"]
        vocab = vocabulary.for_language(script["lang"])
        reference = script["reference"]
        if rule is None:
            transcript = dataclasses.replace(transcript, options={
                k: v for k, v in transcript.options.items() if k not in ("audio_evidence", "audio_rule")})
        else:
            transcript = with_rule(transcript, rule)
        result = layer.clean(transcript)
        errors, size = wer(reference, result.text)
        t["errors"] += errors
        t["words"] += size
        for term in script["terms"]:
            t["terms"] += 1
            heard = found(term, result.text)
            t["heard"] += heard
            if is_drug(vocab, term):
                t["drugs"] += 1
                t["drugs_heard"] += heard
            if not heard:
                place = source_place(term, reference, result.source)
                here = [f for f in result.flags if place and f.start < place[1] and place[0] < f.end and f.kind == "term"]
                if here:
                    t["missed_flagged"] += 1
                    offered = [c for f in here for c in ((*f.choices[:3],) or (f.suggestion or "",))]
                    # a choice that writes the term with the ordinary word glued to it ("angor stable") counts
                    offered_it = any(re.search(rf"(?<!\w){re.escape(fold(term))}(?!\w)", fold(c)) for c in offered)
                    t["missed_in_choices"] += offered_it
                    if details and not offered_it:
                        print(f"    NOT OFFERED {script['id']}: {term!r} heard {result.source[place[0]:place[1]]!r}"
                              f" flagged {[result.source[f.start:f.end] for f in here]} choices {offered}")
                elif details:
                    print(f"    MISSED, NO FLAG {script['id']}: {term!r} heard "
                          f"{result.source[place[0]:place[1]] if place else None!r}")
        for edit in result.edits:
            if "term-audio" in edit.rule:
                t["corrections"] += 1
                if not found_inflected(edit.after.strip(), reference):
                    t["wrong"] += 1
                    if details:
                        print(f"    WRONG {script['id']}: {edit.before!r} -> {edit.after!r} ({edit.evidence})")
            if "list-term-reverted" in edit.rule:
                t["reverted"] += 1
                t["reverted_wrongly"] += found(edit.before.strip(), reference)
        words = {w.strip(".,;:!?()") for w in result.text.replace("\n", " ").split()}
        t["drugs_never_said"] += sum(1 for w in words if is_drug(vocab, w) and not found(w, reference))
        listed = (transcript.options.get("biasing") or {}).get("terms") or []
        t["list_never_said"] += sum(1 for term in listed if found(term, result.text) and not found(term, reference))
        t["asr_s"] += row["asr_s"]
        t["evidence_s"] += float(transcript.options.get("audio_evidence_s") or 0.0)
    return t


def source_place(term: str, reference: str, source: str) -> tuple[int, int] | None:
    """Where, in the engine's text, the words stand that were dictated as ``term`` (aligned on the reference)."""
    ref_words = [(m.start(), fold(m.group())) for m in re.finditer(r"[^\W\d_]+|\d+", reference)]
    src_words = [(m.start(), m.end(), fold(m.group())) for m in re.finditer(r"[^\W\d_]+|\d+", source)]
    spot = re.search(r"(?<!\w)" + re.escape(fold(term)) + r"(?!\w)", fold(reference))
    if spot is None or not src_words:
        return None
    wanted = [i for i, (start, _) in enumerate(ref_words) if spot.start() <= start < spot.end()]
    if not wanted:
        return None
    matcher = difflib.SequenceMatcher(a=[w for _, w in ref_words], b=[w for *_, w in src_words], autojunk=False)
    covered: list[int] = []
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if a1 <= wanted[-1] and wanted[0] < max(a2, a1 + 1):
            covered += list(range(b1, max(b2, b1 + 1) if tag != "insert" else b1))
    covered = [i for i in covered if i < len(src_words)]
    if not covered:
        return None
    return src_words[min(covered)][0], src_words[max(covered)][1]


def print_dev(condition: str, rows: list[dict[str, Any]], layer: TextLayer, vocabulary: Any, rule: AudioRule,
              details: bool) -> None:
    print(f"\n{condition}: {len(rows)} dev dictations (bundled base, CPU int8, beam 5)")
    print(f"{'':<22}{'WER':>7}{'terms':>8}{'drugs':>8}{'corrections':>13}{'wrong':>7}{'drugs never said':>18}"
          f"{'list never said':>17}{'reverted':>10}{'missed: in 3 choices':>22}")
    for name, chosen in (("text layer alone", None), ("with the audio", rule)):
        t = measure(rows, layer, vocabulary, chosen, details and chosen is not None)
        choices = f"{t['missed_in_choices']}/{t['missed_flagged']}" if t["missed_flagged"] else "-"
        print(f"{name:<22}{t['errors'] / max(1, t['words']):>7.1%}{t['heard'] / max(1, t['terms']):>8.1%}"
              f"{t['drugs_heard'] / max(1, t['drugs']):>8.1%}{t['corrections']:>13}{t['wrong']:>7}"
              f"{t['drugs_never_said']:>18}{t['list_never_said']:>17}{t['reverted']:>10}{choices:>22}")


def general(engine: Engine, layer: TextLayer, vocabulary: Any, rule: AudioRule,
            specialties: tuple[str, ...] = SPECIALTIES) -> list[dict[str, Any]]:
    """Real general speech with every specialty's list (or these): list terms written never said; words changed."""
    from rapidfuzz.distance import Levenshtein

    from bench.bench_text import normalised_words

    rows_out = []
    lines = [line.split("\t") for line in (SHARED / "transcripts.tsv").read_text().splitlines()[1:] if "\t" in line]
    for language in ("fr", "en"):
        vocab = vocabulary.for_language(language)
        t: Counter[str] = Counter()
        for name, reference, *_ in lines:
            if not name.startswith(language + "/"):
                continue
            for specialty in specialties:
                biasing = build_biasing([("specialty", vocab.specialty_terms.get(specialty, ()))])
                options = DecodeOptions(language=language, hotwords=biasing.hotwords, prompt_terms=biasing.terms,
                                        biasing=biasing.to_json() if biasing.terms else None)
                key = f"{name.replace('/', '_')}-{specialty}"
                transcript, _ = engine.decode(key, SHARED / name, options, "general")
                transcript = weighed(engine, layer, transcript, SHARED / name)
                rows_out.append({"script": {"id": key, "lang": language, "reference": reference, "terms": []},
                                 "transcript": transcript, "asr_s": 0.0})
                before = with_rule(dataclasses.replace(transcript, options={
                    k: v for k, v in transcript.options.items() if k != "audio_evidence"}), rule)
                result = layer.clean(with_rule(transcript, rule))
                raw = layer.clean(before)
                t["runs"] += 1
                t["written_raw"] += sum(found(x, raw.text) and not found(x, reference) for x in biasing.terms)
                t["written"] += sum(found(x, result.text) and not found(x, reference) for x in biasing.terms)
                t["corrections"] += sum("term-audio" in e.rule for e in result.edits)
                a, b = normalised_words(raw.text, language), normalised_words(result.text, language)
                t["changed"] += Levenshtein.distance(a, b)
                t["words"] += len(a)
        engine.save()
        print(f"general speech ({language}): {t['runs']} runs (clips x {len(specialties)} specialty lists): list terms "
              f"never said written {t['written_raw']} before the audio's check, {t['written']} after; corrections by "
              f"the audio {t['corrections']}; words changed by the audio {t['changed']} of {t['words']} "
              f"({t['changed'] / max(1, t['words']):.2%})")
    return rows_out


def calibrate(rows: list[dict[str, Any]], layer: TextLayer, rule: AudioRule) -> None:
    """The curve (right against wrong corrections as each threshold moves) and the rule it chooses
    (transcribe/learning/calibration.py, as `transcribe calibrate` does on a site's validated reports)."""
    cases = [Case(row["transcript"], row["script"]["reference"]) for row in rows]
    print(f"\nthe curve ({len(cases)} transcripts: dev dictations and general speech): right / wrong corrections, "
          f"list terms taken back (said)")
    current = None
    for name, value, result in curve(cases, rule, layer.vocabulary.for_language, layer.term_nearness):
        if name != current:
            print(f"  {name:<15}", end="")
            current = name
        mark = "*" if getattr(rule, name) == value else ""
        print(f"  {value:g}{mark}: {result.right}/{result.wrong} ({result.reverted}/{result.reverted_wrongly})",
              end="\n" if value == GRID[name][-1] else "")
    chosen, result = choose(cases, MODEL, layer.vocabulary.for_language, layer.term_nearness)
    print(f"chosen on these: {json.dumps({k: v for k, v in chosen.to_json().items() if k != 'calibrated_on'})}: "
          f"{result.right} right, {result.wrong} wrong, {result.reverted} list terms taken back "
          f"({result.reverted_wrongly} said)")
    shipped = tally(cases, rule, layer.vocabulary.for_language, layer.term_nearness)
    print(f"the shipped rule on these: {shipped.right} right, {shipped.wrong} wrong {list(shipped.wrong_ones)}, "
          f"{shipped.reverted} list terms taken back ({shipped.reverted_wrongly} said)")


def unlisted(engine: Engine, layer: TextLayer, vocabulary: Any, rule: AudioRule) -> None:
    """Real drug names our lexicons lack, dictated in a sentence: none may become another drug."""
    listing = json.loads((UNLISTED / "clips.json").read_text())
    changed = tried = 0
    for clip in listing:
        language, name = clip["lang"], clip["name"]
        vocab = vocabulary.for_language(language)
        specialty = vocab.specialty_terms.get(clip.get("specialty", "general-practice"), ())
        biasing = build_biasing([("specialty", specialty)])
        options = DecodeOptions(language=language, hotwords=biasing.hotwords, prompt_terms=biasing.terms,
                                biasing=biasing.to_json())
        path = UNLISTED / clip["file"]
        transcript, _ = engine.decode(clip["file"], path, options, "unlisted")
        transcript = with_rule(weighed(engine, layer, transcript, path), rule)
        result = layer.clean(transcript)
        raw = layer.clean(dataclasses.replace(transcript, options={
            k: v for k, v in transcript.options.items() if k != "audio_evidence"}))
        tried += 1
        new_drugs = {e.after for e in result.edits if "term-audio" in e.rule and is_drug(vocab, e.after)}
        if new_drugs:
            changed += 1
            print(f"  {clip['file']}: {name!r} said; the audio wrote {sorted(new_drugs)} ({raw.text!r})")
    engine.save()
    print(f"unlisted real drug names: {changed} of {tried} dictated names turned into a listed drug by the audio")


def timing(count: int, vocabulary: Any, layer: TextLayer) -> None:
    """The engine's time with and without the audio's evidence, no cache (library calls, warm model)."""
    recognizer = load_recognizer(Settings())
    chosen = [s for s in scripts()][:count]
    all_scripts = scripts()
    asr = kept = evidence = 0.0
    audio_s = 0.0
    for number, script in enumerate(chosen):
        path = CORPUS / "audio" / f"{script['id']}.opus"
        audio = decode_dictation(path)
        biasing = biasing_of("specialty", script, all_scripts, vocabulary, 30)
        options = DecodeOptions(language=script["lang"], hotwords=biasing.hotwords, prompt_terms=biasing.terms,
                                biasing=biasing.to_json())
        if number == 0:
            recognizer.transcribe(audio, options)  # warm
        began = time.perf_counter()
        recognizer.transcribe(audio, options)
        alone = time.perf_counter()
        transcript, windows = recognizer.transcribe_keeping(audio, options)
        middle = time.perf_counter()
        with_audio_evidence(recognizer, audio, transcript, layer.audio_questions(transcript), windows=windows)
        ended = time.perf_counter()
        asr += alone - began
        kept += middle - alone
        evidence += ended - middle
        audio_s += transcript.duration_s
    print(f"\ntiming, {len(chosen)} dictations ({audio_s:.0f} s of audio), specialty list, no cache, warm model "
          f"(library calls): engine alone {asr:.1f} s; engine keeping its windows {kept:.1f} s, then the audio's "
          f"evidence {evidence:.1f} s: x{(kept + evidence) / asr:.2f} the engine alone")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conditions", default="none,specialty,guessed",
                        help="none: no list; specialty: the dictation's specialty list; guessed: the list of the "
                             "specialty the worker's first pass hears (no specialty configured)")
    parser.add_argument("--general", action="store_true")
    parser.add_argument("--general-lists", default=",".join(SPECIALTIES),
                        help="the specialty lists the general-speech clips are decoded with (default: every one)")
    parser.add_argument("--unlisted", action="store_true")
    parser.add_argument("--curve", action="store_true")
    parser.add_argument("--timing", type=int, default=0)
    parser.add_argument("--details", action="store_true")
    args = parser.parse_args()
    vocabulary = load_vocabulary(ROOT / "vocab")
    layer = TextLayer(vocabulary)
    layer.warm_up()
    rule = RULES[MODEL]
    engine = Engine()
    conditions = [c for c in args.conditions.split(",") if c]
    rows = dev(engine, layer, vocabulary, conditions, rule, args.details)
    every = [row for condition in rows.values() for row in condition]
    if args.general and SHARED.is_dir():
        every += general(engine, layer, vocabulary, rule, tuple(args.general_lists.split(",")))
    if args.unlisted and (UNLISTED / "clips.json").exists():
        unlisted(engine, layer, vocabulary, rule)
    if args.curve:
        calibrate(every, layer, rule)
    if args.timing:
        timing(args.timing, vocabulary, layer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
