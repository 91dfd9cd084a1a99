"""Text-layer benchmark: raw engine output vs after the text layer, on the dev corpus and on general speech.

Prints, for raw and clean text against the references of tests/dictations/scripts.jsonl:
  WER (lower-case, punctuation removed), WER with punctuation and line breaks as tokens,
  medical-term recall (the script's `terms` found), number/dose accuracy (the script's `numbers` found);
then the share of words the layer wrongly changes on general real speech (the reference transcripts
of ../shared/audio, and, with --asr, the engine's own transcripts of those clips), and the speed of
the layer in words per second on one core.

Targets (issue 3): term recall >= 95 %, wrong changes on general speech <= 0.5 % of words,
>= 20,000 words/s on one core.

Usage: python bench/bench_text.py [--asr] [--policy keep|expand|first-use] [--details]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz.distance import Levenshtein
from text_to_num import alpha2digit

from transcribe.records import transcript_from_json
from transcribe.text import TextLayer, TextOptions
from transcribe.vocabulary.files import load_vocabulary

CORPUS = ROOT / "tests" / "dictations"
SHARED = ROOT.parent / "shared" / "audio"
CACHE = ROOT / "bench" / ".cache"


def words_of(text: str, *, punctuation: bool = False) -> list[str]:
    """Tokens for WER: lower case; punctuation dropped (or kept as tokens), numbers kept whole."""
    text = unicodedata.normalize("NFC", text.lower()).replace("’", "'")
    if punctuation:
        text = text.replace("\n\n", " ¶ ").replace("\n", " ↵ ")
        return re.findall(r"\d+(?:[.,/]\d+)*|[^\W\d_]+(?:['-][^\W\d_]+)*|[¶↵]|[^\w\s]", text)
    return re.findall(r"\d+(?:[.,/]\d+)*|[^\W\d_]+(?:['-][^\W\d_]+)*|%|°c|µg", text)


def wer(reference: str, hypothesis: str, *, punctuation: bool = False) -> tuple[int, int]:
    ref, hyp = words_of(reference, punctuation=punctuation), words_of(hypothesis, punctuation=punctuation)
    return Levenshtein.distance(ref, hyp), len(ref)


def found(needle: str, text: str) -> bool:
    pattern = r"(?<![\w])" + re.escape(needle.lower()) + r"(?![\w])"
    return re.search(pattern, text.lower()) is not None


def corpus(layer: TextLayer, details: bool) -> dict[str, dict[str, float]]:
    scripts = [json.loads(line) for line in (CORPUS / "scripts.jsonl").read_text().splitlines() if line.strip()]
    totals: dict[str, dict[str, list[int]]] = {}
    for script in scripts:
        path = CORPUS / "transcripts" / f"{script['id']}.json"
        if not path.exists():
            continue
        transcript = transcript_from_json(json.loads(path.read_text()))
        result = layer.clean(transcript)
        for name, hypothesis in (("raw", transcript.text), ("clean", result.text)):
            t = totals.setdefault(f"{script['lang']}/{name}", {k: [0, 0] for k in ("wer", "wer+p", "terms", "numbers")})
            for key, punctuation in (("wer", False), ("wer+p", True)):
                errors, size = wer(script["reference"], hypothesis, punctuation=punctuation)
                t[key][0] += errors
                t[key][1] += size
            t["terms"][0] += sum(found(term, hypothesis) for term in script["terms"])
            t["terms"][1] += len(script["terms"])
            t["numbers"][0] += sum(found(n, hypothesis) for n in script["numbers"])
            t["numbers"][1] += len(script["numbers"])
        if details:
            print(f"\n{script['id']}\n  ref:   {script['reference']!r}\n  raw:   {transcript.text!r}\n  clean: {result.text!r}")
            for flag in result.flags:
                print(f"  flag:  {flag.kind}: {flag.reason}")
    return {k: {m: (v[0] / v[1] if v[1] else 0.0) for m, v in t.items()} for k, t in totals.items()}


def general_texts(asr: bool) -> list[tuple[str, str]]:
    """(language, text) of general real speech: reference transcripts, and engine transcripts with --asr."""
    if not SHARED.is_dir():
        return []
    texts = []
    for line in (SHARED / "transcripts.tsv").read_text().splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) >= 2 and parts[1].strip():
            texts.append((parts[0].split("/")[0], parts[1]))
    if asr:
        texts += [(lang, text) for lang, text in engine_transcripts()]
    return texts


def engine_transcripts() -> list[tuple[str, str]]:
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / "shared-asr.json"
    if cached.exists():
        return [tuple(x) for x in json.loads(cached.read_text())]  # type: ignore[misc]
    from transcribe.settings import Settings
    from transcribe.speech.audio import decode_dictation
    from transcribe.speech.engine import DecodeOptions
    from transcribe.worker import load_recognizer

    recognizer = load_recognizer(Settings())
    out = []
    for line in (SHARED / "transcripts.tsv").read_text().splitlines()[1:]:
        name = line.split("\t")[0]
        lang = name.split("/")[0]
        transcript = recognizer.transcribe(decode_dictation(SHARED / name), DecodeOptions(language=lang))
        out.append((lang, transcript.text))
    cached.write_text(json.dumps(out, ensure_ascii=False))
    return out


_UNITS: dict[str, list[tuple[re.Pattern[str], str]]] = {}


def normalised_words(text: str, lang: str) -> list[str]:
    """Words compared for "wrongly changed": numbers in digits and units in symbols on both sides.

    Writing "80 pourcent" as "80 %" is the layer's job, not a wrong change; changing a word is.
    """
    text = alpha2digit(text, lang, threshold=0)
    if lang not in _UNITS:
        vocab = load_vocabulary(ROOT / "vocab").languages[lang]
        forms = sorted(((spoken, unit.written) for unit in vocab.units for spoken in unit.spoken), key=lambda f: -len(f[0]))
        _UNITS[lang] = [(re.compile(rf"(\d)\s?{re.escape(spoken)}\b", re.IGNORECASE), written) for spoken, written in forms]
    for pattern, written in _UNITS[lang]:
        text = pattern.sub(lambda m, w=written: f"{m.group(1)} {w}", text)
    return words_of(text)


def wrong_changes(layer: TextLayer, texts: list[tuple[str, str]], details: bool) -> tuple[int, int]:
    changed = total = 0
    for lang, text in texts:
        result = layer.clean_text(text, lang)
        before, after = normalised_words(text, lang), normalised_words(result.text, lang)
        distance = Levenshtein.distance(before, after)
        changed += distance
        total += len(before)
        if details and distance:
            print(f"  changed ({lang}): {[e for e in result.edits if e.rule not in ('casing', 'spacing')]}")
    return changed, total


#: sentences a drug name is dictated in: after a drug word, before a dose, and in running text, lower case
DRUG_SENTENCES = {
    "fr": ("patient sous {name} depuis mars", "relais par {name} 10 mg par jour", "il tolère bien le {lower}",
           "{name} 20 mg le matin", "puis {lower} le soir"),
    "en": ("patient on {name} since March", "started {name} 10 mg daily", "she tolerates {lower} well",
           "{name} 20 mg in the morning", "then {lower} at night"),
}


def unlisted_drug_names(vocabulary) -> dict[str, list[str]]:
    """Real drug names a language's lexicon lacks: the other language's drugs, and the held-out list."""
    out: dict[str, list[str]] = {}
    for language in ("fr", "en"):
        vocab = vocabulary.for_language(language)
        other = vocabulary.for_language("en" if language == "fr" else "fr")
        names = sorted({t.text for key, t in other.terms.items() if t.is_drug and " " not in key and key.isalpha()
                        and len(key) >= 5 and vocab.term(key) is None
                        and key.rstrip("e") not in vocab.terms and key + "e" not in vocab.terms})
        out[language] = names[::max(1, len(names) // 300)][:300]
    held_out = [line.strip() for line in (ROOT / "bench" / "data" / "unlisted-drugs.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    out["held-out"] = [n for n in held_out if all(
        vocabulary.for_language(lang).term(n) is None and not vocabulary.for_language(lang).is_foreign_drug(n)
        for lang in ("fr", "en"))]
    return out


def drugs_changed(layer: TextLayer, names: list[str], languages: tuple[str, ...], details: bool) -> tuple[int, int]:
    """How many dictated drug names the layer changed into something else (target 0)."""
    from transcribe.vocabulary.folding import fold

    changed = tried = 0
    for name in names:
        for language in languages:
            for sentence in DRUG_SENTENCES[language]:
                text = sentence.format(name=name, lower=name.lower())
                tried += 1
                result = layer.clean_text(text, language)
                if fold(name) not in fold(result.text):
                    changed += 1
                    if details:
                        print(f"  changed ({language}): {text!r} -> {result.text!r}")
    return changed, tried


def cold_speed(vocabulary, policy: str, texts: list[tuple[str, str]], transcripts: list) -> tuple[float, float, int]:
    """A new layer (no cache warmed): seconds to build it, then words/s of its first pass over unseen text."""
    started = time.perf_counter()
    layer = TextLayer(vocabulary, TextOptions(policy))
    layer.warm_up()
    built = time.perf_counter() - started
    words = 0
    started = time.perf_counter()
    for lang, text in texts:
        layer.clean_text(text, lang)
        words += len(text.split())
    for transcript in transcripts:
        layer.clean(transcript)
        words += len(transcript.text.split())
    return built, words / (time.perf_counter() - started), words


def speed(layer: TextLayer, texts: list[tuple[str, str]], transcripts: list) -> tuple[float, int, float]:
    words = 0
    started, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - started < 3.0:
        for lang, text in texts:
            layer.clean_text(text, lang)
            words += len(text.split())
        for transcript in transcripts:
            layer.clean(transcript)
            words += len(transcript.text.split())
    return words / (time.perf_counter() - started), words, words / (time.process_time() - cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asr", action="store_true", help="also measure on the engine's transcripts of ../shared/audio")
    parser.add_argument("--policy", default="keep", choices=["keep", "expand", "first-use"])
    parser.add_argument("--details", action="store_true")
    args = parser.parse_args()
    vocabulary = load_vocabulary(ROOT / "vocab")
    layer = TextLayer(vocabulary, TextOptions(args.policy))
    layer.warm_up()

    results = corpus(layer, args.details)
    print(f"vocabulary {vocabulary.version}, abbreviation policy {args.policy}\n")
    print(f"{'corpus':<10}{'WER':>8}{'WER+punct':>11}{'term recall':>13}{'numbers':>9}")
    for key in sorted(results):
        r = results[key]
        print(f"{key:<10}{r['wer']:>8.1%}{r['wer+p']:>11.1%}{r['terms']:>13.1%}{r['numbers']:>9.1%}")

    texts = general_texts(args.asr)
    if texts:
        changed, total = wrong_changes(layer, texts, args.details)
        print(f"\ngeneral speech: {changed} of {total} words changed = {changed / total:.2%} (target at most 0.5 %)")
    else:
        print("\ngeneral speech: ../shared/audio not found; skipped")

    import dataclasses

    names = unlisted_drug_names(vocabulary)
    guard_only = TextLayer(dataclasses.replace(vocabulary, languages={
        code: dataclasses.replace(v, foreign_drugs=frozenset()) for code, v in vocabulary.languages.items()}),
        TextOptions(args.policy))
    print("\nreal drug names a lexicon lacks, dictated in 5 sentences each (changed into another word; target 0):")
    for label, group, languages in (("EN drugs in French text", names["fr"], ("fr",)),
                                    ("FR drugs in English text", names["en"], ("en",)),
                                    ("held-out list (bench/data)", names["held-out"], ("fr", "en"))):
        changed, tried = drugs_changed(layer, group, languages, args.details)
        bare, _ = drugs_changed(guard_only, group, languages, args.details)
        print(f"  {label:<28} {len(group):>4} names: {changed} of {tried} changed "
              f"(without the other language's lexicon, by their shape alone: {bare})")

    transcripts = [transcript_from_json(json.loads(p.read_text())) for p in sorted((CORPUS / "transcripts").glob("*.json"))]
    built, cold_per_s, cold_words = cold_speed(vocabulary, args.policy, texts, transcripts)
    per_s, words, per_cpu_s = speed(layer, texts, transcripts)
    print(f"speed, cold: a new layer built in {built:.1f} s (vocabulary already loaded), then its first pass over "
          f"unseen text at {cold_per_s:,.0f} words/s ({cold_words:,} words)")
    print(f"speed, warm: {per_s:,.0f} words/s wall, {per_cpu_s:,.0f} words/s CPU, one thread, the same texts again "
          f"(caches warm; {words:,} words; target 20,000)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
