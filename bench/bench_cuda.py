"""The engine on a GPU: CUDA float16 against the CPU, sequential and batched, and the acoustic scorer.

Three steps, because a GPU machine may hold no more than the speech engine (no spaCy, no lexicons):

  prepare  (here, on the CPU, the whole project installed) decodes the committed dev corpus
           (tests/dictations, 52 dictations, French and English) as ``transcribe run --specialty``
           does: bundled base, CPU int8, beam 5, VAD, the dictation's specialty list as hotwords.
           It keeps, for each dictation, its decode options, the CPU transcript and its time, the text
           layer's questions for the audio (``TextLayer.audio_questions``) and the CPU's answers
           (``acoustic.weigh``) and their time, in one JSON file (the plan).
  measure  (on the GPU machine; needs only numpy, av, faster-whisper and ``transcribe.speech``) reads
           the plan and, for each compute type asked (default float16 and int8_float16):
           - sequential: every dictation on its own, ``SpeechRecognizer.transcribe``, model loaded and
             warmed up first (library calls, warm);
           - batched: all of them at once through ``transcribe_packed`` (the nightly batch's decoder),
             for each batch size asked;
           - the acoustic scorer: the CPU transcript's questions asked again on this device
             (``acoustic.weigh``, each clip encoded afresh), and the whole pipeline's path (decode
             keeping the encoder's windows, then weigh on them).
           It prints wall times, audio seconds per wall second, WER against the references (words only,
           case and punctuation folded: for comparing devices, not the project's WER), how many words
           differ from the CPU transcript, and how often the scorer's best spelling and the sign of
           its margin agree with the CPU's.

  compare  (here again) reads the plan and measure's JSON and puts both through the text layer, with the
           figures of bench_terms.py: the CPU transcripts with the CPU's answers, the same transcripts with
           the device's answers (does the audio rule, calibrated on CPU int8, decide the same on the
           device's numbers?), and the device's own transcripts, sequential and batched, text layer alone
           (their questions would differ from the CPU's; the device had no text layer to ask them).

Usage: python bench/bench_cuda.py prepare --plan .gpu/plan.json
       python bench/bench_cuda.py measure --plan .gpu/plan.json --model FOLDER [--device cuda]
              [--compute-types float16,int8_float16] [--batch-sizes 8,16,32] [--out result.json]
       python bench/bench_cuda.py compare --plan .gpu/plan.json --result result.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from transcribe.records import AudioQuestion, Candidate, Transcript, transcript_from_json  # noqa: E402
from transcribe.speech.audio import DecodedAudio, decode_dictation  # noqa: E402
from transcribe.speech.engine import DecodeOptions, EngineOptions, SpeechRecognizer  # noqa: E402

CORPUS = ROOT / "tests" / "dictations"


def options_to_json(options: DecodeOptions) -> dict[str, Any]:
    return dataclasses.asdict(options)


def options_from_json(data: dict[str, Any]) -> DecodeOptions:
    return DecodeOptions(**{**data, "prompt_terms": tuple(data.get("prompt_terms") or ())})


def question_from_json(data: dict[str, Any]) -> AudioQuestion:
    return AudioQuestion(**{**data, "candidates": tuple(Candidate(**c) for c in data["candidates"])})


def words_of(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.lower())


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    previous = list(range(len(hypothesis) + 1))
    for i, word in enumerate(reference, 1):
        current = [i]
        for j, other in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other)))
        previous = current
    return previous[-1]


def rate(pairs: list[tuple[str, str]]) -> float:
    """Word error rate (%) of the second texts against the first, over all pairs."""
    errors = sum(word_errors(words_of(a), words_of(b)) for a, b in pairs)
    total = sum(len(words_of(a)) for a, _ in pairs)
    return 100.0 * errors / max(1, total)


# --- prepare (CPU, the whole project) -----------------------------------------------------------------------
def prepare(plan_path: Path) -> None:
    from bench.bench_biasing import biasing_of
    from transcribe.settings import Settings
    from transcribe.speech.acoustic import weigh
    from transcribe.text import TextLayer
    from transcribe.vocabulary.files import load_vocabulary
    from transcribe.worker import load_recognizer

    scripts = [json.loads(line) for line in (CORPUS / "scripts.jsonl").read_text().splitlines() if line.strip()]
    vocabulary = load_vocabulary(ROOT / "vocab")
    layer = TextLayer(vocabulary)
    layer.warm_up()
    recognizer = load_recognizer(Settings())
    rows = []
    for script in scripts:
        biasing = biasing_of("specialty", script, scripts, vocabulary, 30)
        options = DecodeOptions(language=script["lang"], hotwords=biasing.hotwords, prompt_terms=biasing.terms,
                                biasing=biasing.to_json() if biasing.terms else None)
        audio = decode_dictation(CORPUS / "audio" / f"{script['id']}.opus")
        began = time.perf_counter()
        transcript = recognizer.transcribe(audio, options)
        asr_s = time.perf_counter() - began
        questions = layer.audio_questions(transcript)
        began = time.perf_counter()
        evidence = weigh(recognizer, audio, transcript, questions)
        evidence_s = time.perf_counter() - began
        rows.append({
            "id": script["id"], "reference": script["reference"], "options": options_to_json(options),
            "transcript": transcript.to_json(), "asr_s": asr_s,
            "questions": [dataclasses.asdict(q) for q in questions],
            "evidence": [e.to_json() for e in evidence], "evidence_s": evidence_s,
        })
        print(f"{script['id']}: {transcript.duration_s:.1f} s, asr {asr_s:.1f} s, {len(questions)} questions "
              f"{evidence_s:.1f} s", flush=True)
    plan_path.parent.mkdir(parents=True, exist_ok=True)
    plan = {"device": recognizer.device, "compute_type": recognizer.compute_type, "threads": recognizer.cpu_threads,
            "dictations": rows}
    plan_path.write_text(json.dumps(plan, ensure_ascii=False))
    print(f"plan written: {plan_path} ({len(rows)} dictations)")


# --- measure (the GPU machine: the speech engine only) -----------------------------------------------------
def agreement(cpu: list[dict[str, Any]], here: list[Any]) -> dict[str, Any]:
    """How the scorer's answers on this device compare with the CPU's, question by question."""
    by_place = {(e["first"], e["last"], e["kind"]): e for e in cpu}
    same_best = signs = compared = 0
    deltas: list[float] = []
    for evidence in here:
        other = by_place.get((evidence.first, evidence.last, evidence.kind))
        if other is None or not evidence.scores or not other["scores"]:
            continue
        compared += 1
        same_best += evidence.scores[0].spelling == other["scores"][0]["spelling"]
        margins = {s["spelling"]: s["margin"] for s in other["scores"]}
        for score in evidence.scores:
            if score.spelling in margins:
                deltas.append(abs(score.margin - margins[score.spelling]))
                signs += (score.margin > 0) == (margins[score.spelling] > 0)
    return {
        "questions_compared": compared, "same_best": same_best, "margins_compared": len(deltas),
        "same_sign": signs, "median_abs_margin_difference": round(statistics.median(deltas), 3) if deltas else None,
        "p90_abs_margin_difference": round(sorted(deltas)[int(0.9 * (len(deltas) - 1))], 3) if deltas else None,
    }


def measure(args: argparse.Namespace) -> None:
    from transcribe.speech.acoustic import weigh
    from transcribe.speech.model_location import ResolvedModel
    from transcribe.speech.packed import transcribe_packed

    plan = json.loads(Path(args.plan).read_text())
    rows = plan["dictations"]
    began = time.perf_counter()
    audios: list[DecodedAudio] = [decode_dictation(CORPUS / "audio" / f"{r['id']}.opus") for r in rows]
    decode_s = time.perf_counter() - began
    options = [options_from_json(r["options"]) for r in rows]
    cpu_transcripts: list[Transcript] = [transcript_from_json(r["transcript"]) for r in rows]
    audio_s = sum(t.duration_s for t in cpu_transcripts)
    cpu_asr = sum(r["asr_s"] for r in rows)
    cpu_evidence = sum(r["evidence_s"] for r in rows)
    questions = [[question_from_json(q) for q in r["questions"]] for r in rows]
    candidates = sum(len(q.candidates) or 1 for qs in questions for q in qs)
    references = [r["reference"] for r in rows]
    result: dict[str, Any] = {
        "dictations": len(rows), "audio_s": round(audio_s, 1), "audio_decode_s": round(decode_s, 2),
        "cpu_reference": {"device": plan["device"], "compute_type": plan["compute_type"], "threads": plan["threads"],
                          "sequential_s": round(cpu_asr, 1), "wer": round(rate(list(zip(references, [t.text for t in cpu_transcripts]))), 2),
                          "scorer_s": round(cpu_evidence, 1)},
        "runs": [],
    }
    print(f"{len(rows)} dictations, {audio_s:.0f} s of audio (decoded from Opus in {decode_s:.1f} s); "
          f"{sum(len(q) for q in questions)} questions, {candidates} candidates")
    print(f"CPU reference ({plan['device']} {plan['compute_type']}, {plan['threads']} threads, prepared): sequential "
          f"{cpu_asr:.1f} s (x{audio_s / cpu_asr:.1f} real time), WER {result['cpu_reference']['wer']:.1f}%, scorer "
          f"{cpu_evidence:.1f} s")
    model = ResolvedModel("bundled-base", str(args.model), "local", str(args.model))
    for compute_type in args.compute_types.split(","):
        run: dict[str, Any] = {"device": args.device, "compute_type": compute_type}
        began = time.perf_counter()
        recognizer = SpeechRecognizer(model, EngineOptions(device=args.device, compute_type=compute_type))
        run["load_s"] = round(time.perf_counter() - began, 2)
        run["warm_up_s"] = round(recognizer.warm_up(), 2)  # what load_recognizer does on a GPU
        began = time.perf_counter()
        recognizer.transcribe(audios[0], options[0])
        run["first_decode_s"] = round(time.perf_counter() - began, 2)

        began = time.perf_counter()
        sequential = [recognizer.transcribe(a, o) for a, o in zip(audios, options)]
        seconds = time.perf_counter() - began
        run["sequential"] = {
            "wall_s": round(seconds, 2), "x_real_time": round(audio_s / seconds, 1),
            "wer": round(rate(list(zip(references, [t.text for t in sequential]))), 2),
            "words_differing_from_cpu_pct": round(rate([(c.text, t.text) for c, t in zip(cpu_transcripts, sequential)]), 2),
        }
        print(f"\n{args.device} {compute_type}: model loaded in {run['load_s']} s, warm-up on 1 s of silence "
              f"{run['warm_up_s']} s, then the first dictation {run['first_decode_s']} s")
        print(f"  sequential: {seconds:.2f} s (x{audio_s / seconds:.0f} real time, x{cpu_asr / seconds:.1f} the CPU), "
              f"WER {run['sequential']['wer']:.1f}%, words differing from the CPU's {run['sequential']['words_differing_from_cpu_pct']:.1f}%")

        run["transcripts"] = {"sequential": [t.to_json() for t in sequential]}
        run["batched"] = []
        for batch_size in [int(b) for b in args.batch_sizes.split(",") if b]:
            began = time.perf_counter()
            packed = transcribe_packed(recognizer, list(zip(audios, options)), batch_size)
            seconds = time.perf_counter() - began
            failed = [p for p in packed if not isinstance(p, Transcript)]
            texts = [p.text if isinstance(p, Transcript) else "" for p in packed]
            entry = {
                "batch_size": batch_size, "wall_s": round(seconds, 2), "x_real_time": round(audio_s / seconds, 1),
                "failed": len(failed), "wer": round(rate(list(zip(references, texts))), 2),
                "words_differing_from_sequential_pct": round(rate([(s.text, t) for s, t in zip(sequential, texts)]), 2),
            }
            run["batched"].append(entry)
            run["transcripts"][f"batched-{batch_size}"] = [p.to_json() if isinstance(p, Transcript) else None for p in packed]
            print(f"  batched {batch_size}: {seconds:.2f} s (x{audio_s / seconds:.0f} real time, "
                  f"x{run['sequential']['wall_s'] / seconds:.1f} sequential), failed {len(failed)}, WER {entry['wer']:.1f}%, "
                  f"words differing from sequential {entry['words_differing_from_sequential_pct']:.1f}%")
            if failed:
                print(f"    first failure: {failed[0]}")

        began = time.perf_counter()
        answers = [weigh(recognizer, a, t, q) for a, t, q in zip(audios, cpu_transcripts, questions)]
        seconds = time.perf_counter() - began
        agreed = agreement([e for r in rows for e in r["evidence"]], [e for a in answers for e in a])
        run["evidence"] = [[e.to_json() for e in a] for a in answers]
        run["scorer"] = {"wall_s": round(seconds, 2), "per_candidate_ms": round(1000 * seconds / max(1, candidates), 2),
                         **agreed}
        print(f"  acoustic scorer on the CPU transcripts' questions: {seconds:.2f} s ({run['scorer']['per_candidate_ms']} ms "
              f"a candidate; CPU {cpu_evidence:.1f} s); best spelling as the CPU's {agreed['same_best']}/"
              f"{agreed['questions_compared']}, margin sign as the CPU's {agreed['same_sign']}/{agreed['margins_compared']}, "
              f"|margin difference| median {agreed['median_abs_margin_difference']} p90 {agreed['p90_abs_margin_difference']} nats")

        began = time.perf_counter()
        engine_s = scorer_s = 0.0
        for audio, decode, qs in zip(audios, options, questions):
            start = time.perf_counter()
            transcript, windows = recognizer.transcribe_keeping(audio, decode)
            middle = time.perf_counter()
            weigh(recognizer, audio, transcript, [q for q in qs if q.last < len(transcript.words)], windows=windows)
            engine_s += middle - start
            scorer_s += time.perf_counter() - middle
        run["pipeline_path"] = {"engine_keeping_s": round(engine_s, 2), "scorer_on_kept_windows_s": round(scorer_s, 2),
                                "x_engine_alone": round((engine_s + scorer_s) / run["sequential"]["wall_s"], 2)}
        print(f"  decode keeping the windows {engine_s:.2f} s, then the scorer on them {scorer_s:.2f} s: "
              f"x{run['pipeline_path']['x_engine_alone']} the engine alone (a timing only: the questions are the CPU "
              "transcript's, placed by word index on this device's transcript)")
        result["runs"].append(run)
        del recognizer
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))


# --- compare (here: the text layer) ---------------------------------------------------------------------------
def compare(plan_path: Path, result_path: Path) -> None:
    from bench.bench_terms import measure as figures
    from bench.bench_terms import print_dev
    from transcribe.text import TextLayer
    from transcribe.text.evidence import RULES
    from transcribe.vocabulary.files import load_vocabulary

    plan = json.loads(plan_path.read_text())
    result = json.loads(result_path.read_text())
    scripts = {json.loads(line)["id"]: json.loads(line) for line in (CORPUS / "scripts.jsonl").read_text().splitlines() if line.strip()}
    vocabulary = load_vocabulary(ROOT / "vocab")
    layer = TextLayer(vocabulary)
    layer.warm_up()
    rule = RULES["bundled-base"]

    def rows(transcripts: list[Transcript], evidence: list[list[dict[str, Any]]] | None) -> list[dict[str, Any]]:
        out = []
        for row, transcript, answers in zip(plan["dictations"], transcripts, evidence or [None] * len(transcripts)):
            options = {k: v for k, v in transcript.options.items() if k != "audio_evidence"}
            if answers is not None:
                options["audio_evidence"] = answers
            out.append({"script": scripts[row["id"]], "transcript": dataclasses.replace(transcript, options=options),
                        "asr_s": row["asr_s"]})
        return out

    cpu = [transcript_from_json(r["transcript"]) for r in plan["dictations"]]
    print_dev("CPU transcripts, CPU int8 answers", rows(cpu, [r["evidence"] for r in plan["dictations"]]), layer,
              vocabulary, rule, False)
    for run in result["runs"]:
        name = f"{run['device']} {run['compute_type']}"
        print_dev(f"CPU transcripts, {name} answers", rows(cpu, run["evidence"]), layer, vocabulary, rule, False)
        for path, transcripts in run["transcripts"].items():
            made = [transcript_from_json(t) for t in transcripts if t is not None]
            if len(made) != len(cpu):
                print(f"{name} {path}: {len(cpu) - len(made)} dictations failed")
                continue
            t = figures(rows(made, None), layer, vocabulary, None)
            print(f"{name} {path} transcripts, text layer alone: WER {t['errors'] / max(1, t['words']):.1%}, terms "
                  f"{t['heard'] / max(1, t['terms']):.1%}, drugs {t['drugs_heard'] / max(1, t['drugs']):.1%}, drugs "
                  f"never said {t['drugs_never_said']}, list terms never said {t['list_never_said']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["prepare", "measure", "compare"])
    parser.add_argument("--result", help="measure's JSON (compare)")
    parser.add_argument("--plan", default=str(ROOT / ".gpu" / "plan.json"))
    parser.add_argument("--model", help="the model folder (measure)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--compute-types", default="float16,int8_float16")
    parser.add_argument("--batch-sizes", default="8,16,32")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.step == "prepare":
        prepare(Path(args.plan))
    elif args.step == "compare":
        compare(Path(args.plan), Path(args.result))
    else:
        measure(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
