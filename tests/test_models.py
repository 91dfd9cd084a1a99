"""Model resolution: the bundled model reassembled offline and verified, local folders, names."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from transcribe.errors import ModelUnavailable
from transcribe.speech.model_location import BUNDLED_SOURCES, assemble_bundled_model, list_models, resolve_model


def test_bundled_model_is_reassembled_once_and_verified(tmp_path: Path) -> None:
    first = resolve_model("bundled-base", models_dir=tmp_path / "models", cache_dir=tmp_path / "cache")
    folder = Path(first.load_from)
    assert first.kind == "bundled"
    assert {"model.bin", "config.json", "tokenizer.json"} <= {p.name for p in folder.iterdir()}
    assert (folder / ".verified-sha256").read_text().strip() == BUNDLED_SOURCES[0].model_sha256
    mtime = (folder / "model.bin").stat().st_mtime_ns
    again = resolve_model("bundled-base", models_dir=tmp_path / "models", cache_dir=tmp_path / "cache")
    assert again.load_from == first.load_from
    assert (folder / "model.bin").stat().st_mtime_ns == mtime  # not assembled twice
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".assembling")]


def test_a_damaged_cache_is_assembled_again(tmp_path: Path) -> None:
    folder = Path(assemble_bundled_model(tmp_path).load_from)
    with (folder / "model.bin").open("r+b") as stream:
        stream.truncate(1000)
    repaired = Path(assemble_bundled_model(tmp_path).load_from)
    assert (repaired / "model.bin").stat().st_size == BUNDLED_SOURCES[0].model_size


def test_a_source_with_the_wrong_hash_is_refused(tmp_path: Path) -> None:
    wrong = dataclasses.replace(BUNDLED_SOURCES[0], model_sha256="0" * 64)
    missing = dataclasses.replace(BUNDLED_SOURCES[1], first="not_installed_pkg", second="not_installed_pkg2")
    with pytest.raises(ModelUnavailable, match="unexpected hash.*not installed"):
        assemble_bundled_model(tmp_path, (wrong, missing))
    assert not list(tmp_path.glob("bundled-base-*"))  # nothing half-made left behind


def test_local_folder_under_models(tmp_path: Path) -> None:
    folder = tmp_path / "models" / "large-v3-turbo"
    folder.mkdir(parents=True)
    for name in ("model.bin", "config.json", "tokenizer.json"):
        (folder / name).write_text("x")
    resolved = resolve_model("large-v3-turbo", models_dir=tmp_path / "models", cache_dir=tmp_path)
    assert (resolved.kind, resolved.load_from) == ("local", str(folder))
    listed = {m.name: m for m in list_models(tmp_path / "models")}
    assert listed["large-v3-turbo"].available == "ready"


def test_incomplete_local_folder_says_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "models" / "mine").mkdir(parents=True)
    with pytest.raises(ModelUnavailable, match="missing model.bin, config.json"):
        resolve_model("mine", models_dir=tmp_path / "models", cache_dir=tmp_path)


@pytest.mark.parametrize(("name", "kind"), [("small", "hub"), ("Systran/faster-whisper-large-v3", "hub")])
def test_hub_names_are_passed_to_faster_whisper(tmp_path: Path, name: str, kind: str) -> None:
    assert resolve_model(name, models_dir=tmp_path, cache_dir=tmp_path).kind == kind


@pytest.mark.parametrize("name", ["whisper-huge", "/no/such/folder"])
def test_unknown_models_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ModelUnavailable, match="bundled-base"):
        resolve_model(name, models_dir=tmp_path, cache_dir=tmp_path)


def test_the_engine_warms_up_on_silence_and_still_transcribes(recognizer) -> None:
    """The warm-up `load_recognizer` runs on a GPU (where the first decode of a process took 14-16 s on an
    H200, measured by bench/bench_cuda.py) is run here on the CPU: the machine has no GPU, so only the call
    itself is tested, not the time it saves."""
    from transcribe.speech.audio import decode_dictation
    from transcribe.speech.engine import DecodeOptions

    assert recognizer.warm_up() >= 0.0
    audio = decode_dictation(Path(__file__).parent / "dictations" / "audio" / "fr-mg-001.opus")
    assert "amlodipine" in recognizer.transcribe(audio, DecodeOptions(language="fr")).text.lower()
