"""Coding benchmark (issue 25): the codes suggested for dev dictation texts against the codes the team wrote.

The texts: the references of tests/dictations/scripts.jsonl (what the dev clips say) and texts written for
this bench; their codes, as a coder gives them, in bench/data/codes.jsonl (``diagnoses``, ``acts``, and
``not``: codes the text names negated, as a hypothesis or of the family, which must not be suggested).
The site's code sets: those the packages ship (CIM-10 from edsnlp, ICD-10-CM from simple-icd-10-cm) and,
for the CCAM, which is never shipped, the team's sample of the official file (tests/coding_files).

Prints, per kind (diagnoses, acts) and per language, precision and recall of the suggestions; then how many
negated, hypothetical or family mentions were wrongly suggested. Targets: precision >= 90 %, recall >= 80 %,
wrongly suggested mentions: 0.

Usage: python bench/bench_codes.py [--details]
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

from transcribe.coding import CodeSuggester, catalogue_of, load_lexicon  # noqa: E402
from transcribe.coding.catalogue import CodeTable  # noqa: E402
from transcribe.coding.official_files import read_code_set  # noqa: E402
from transcribe.coding.records import ACT, DIAGNOSIS  # noqa: E402

CASES = ROOT / "bench" / "data" / "codes.jsonl"
SCRIPTS = ROOT / "tests" / "dictations" / "scripts.jsonl"
CCAM_SAMPLE = ROOT / "tests" / "coding_files" / "ccam-actes-2025.csv"
TARGET_PRECISION, TARGET_RECALL = 0.90, 0.80


def load_cases() -> list[dict]:
    """The bench's texts with their reference codes (a script's reference text where the case names one)."""
    scripts = {r["id"]: r for r in map(json.loads, SCRIPTS.read_text(encoding="utf-8").splitlines()) if r}
    cases = []
    for line in CASES.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        case = json.loads(line)
        case["text"] = scripts[case["script"]]["reference"] if "script" in case else case["text"]
        cases.append(case)
    return cases


def suggesters() -> dict[str, CodeSuggester]:
    """One suggester per language, on the shipped sets and the CCAM sample."""
    found = read_code_set(CCAM_SAMPLE.name, CCAM_SAMPLE.read_bytes())
    catalogue = catalogue_of({"ccam": CodeTable(found.system, found.version, found.source, found.labels)})
    return {lang: CodeSuggester(load_lexicon(ROOT / "vocab", lang), catalogue) for lang in ("fr", "en")}


def ratio(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f} %" if whole else "   n/a "


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--details", action="store_true", help="print each text's missed and wrong codes")
    args = parser.parse_args()

    cases = load_cases()
    started = time.perf_counter()
    by_language = suggesters()  # the pipelines are built here, before the texts are timed
    built_s = time.perf_counter() - started

    counts: Counter[tuple[str, str, str]] = Counter()  # (language, kind, tp|fp|fn)
    negated_wrong: list[tuple[str, str]] = []
    negated_total = 0
    unknown: list[tuple[str, str]] = []
    started = time.perf_counter()
    for case in cases:
        suggester = by_language[case["lang"]]
        found = suggester.suggest(case["text"])
        for code in case["diagnoses"] + case["acts"]:
            system = "ccam" if code in case["acts"] else ("cim10" if case["lang"] == "fr" else "icd10cm")
            if suggester.catalogue.label(system, code) is None:
                unknown.append((case["id"], code))
        for kind, reference in ((DIAGNOSIS, set(case["diagnoses"])), (ACT, set(case["acts"]))):
            suggested = {s.code for s in found.suggestions if s.kind == kind}
            counts[case["lang"], kind, "tp"] += len(suggested & reference)
            counts[case["lang"], kind, "fp"] += len(suggested - reference)
            counts[case["lang"], kind, "fn"] += len(reference - suggested)
            if args.details and suggested != reference:
                print(
                    f"{case['id']:16} {kind:9} wrong {sorted(suggested - reference)} missed {sorted(reference - suggested)}"
                )
        suggested_all = {s.code for s in found.suggestions}
        for code in case.get("not", ()):
            negated_total += 1
            if code in suggested_all:
                negated_wrong.append((case["id"], code))
    elapsed_s = time.perf_counter() - started

    languages = Counter(c["lang"] for c in cases)
    print(
        f"{len(cases)} texts ({languages['fr']} French, {languages['en']} English); pipelines built in {built_s:.1f} s, "
        f"{1000 * elapsed_s / len(cases):.0f} ms a text"
    )
    print(f"{'':16}{'precision':>10}{'recall':>10}{'tp':>5}{'fp':>5}{'fn':>5}")
    ok = True
    for kind in (DIAGNOSIS, ACT):
        for lang in ("fr", "en", "all"):
            langs = ("fr", "en") if lang == "all" else (lang,)
            tp, fp, fn = (sum(counts[x, kind, k] for x in langs) for k in ("tp", "fp", "fn"))
            if tp + fp + fn == 0:
                continue
            print(f"{kind + ' ' + lang:16}{ratio(tp, tp + fp):>10}{ratio(tp, tp + fn):>10}{tp:5}{fp:5}{fn:5}")
            if lang == "all":
                ok &= tp / max(tp + fp, 1) >= TARGET_PRECISION and tp / max(tp + fn, 1) >= TARGET_RECALL
    print(
        f"negated, hypothetical or family mentions wrongly suggested: {len(negated_wrong)} of {negated_total}"
        + (f" {negated_wrong}" if negated_wrong else "")
    )
    if unknown:
        print(f"reference codes missing from the code sets (check the references): {unknown}")
    print(
        f"targets (precision >= {TARGET_PRECISION:.0%}, recall >= {TARGET_RECALL:.0%}, 0 wrongly suggested): "
        + ("met" if ok and not negated_wrong else "NOT met")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
