"""Settings: defaults, file, environment, flags; unknown keys refused; sources reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transcribe.errors import ConfigurationError
from transcribe.settings import Settings
from transcribe.settings_loading import describe, load_settings

from .conftest import write_config


def test_defaults_need_no_file(tmp_path: Path) -> None:
    loaded = load_settings(cwd=tmp_path, environ={})
    assert loaded.config_file is None
    assert loaded.settings.asr.model == "bundled-base"
    assert loaded.settings.paths.inbox == tmp_path.resolve() / "inbox"
    assert loaded.settings.store_url == f"sqlite:///{tmp_path.resolve() / 'data' / 'store.sqlite3'}"
    assert set(loaded.sources.values()) == {"default"}


def test_file_then_environment_then_flag(tmp_path: Path) -> None:
    write_config(tmp_path, {"asr.model": "small", "asr.beam_size": 2, "intake.settle_s": 3})
    environ = {"TRANSCRIBE_ASR_BEAM_SIZE": "4", "TRANSCRIBE_ASR_VAD_FILTER": "off"}
    loaded = load_settings(cwd=tmp_path, environ=environ, flags={"asr.model": "tiny"})
    s = loaded.settings
    assert (s.asr.model, s.asr.beam_size, s.asr.vad_filter, s.intake.settle_s) == ("tiny", 4, False, 3.0)
    assert loaded.sources["asr.model"] == "flag"
    assert loaded.sources["asr.beam_size"] == "env TRANSCRIBE_ASR_BEAM_SIZE"
    assert loaded.sources["intake.settle_s"].startswith("file ")
    assert loaded.sources["asr.device"] == "default"


def test_relative_paths_start_at_the_settings_file(tmp_path: Path) -> None:
    site = tmp_path / "clinic"
    site.mkdir()
    config = write_config(site, {"paths.inbox": "dictaphones", "paths.outbox": "/srv/records"})
    s = load_settings(config, cwd=tmp_path, environ={}).settings
    assert s.paths.inbox == site.resolve() / "dictaphones"
    assert s.paths.outbox == Path("/srv/records")


def test_settings_file_named_by_environment(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"asr.language": "fr"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    loaded = load_settings(cwd=elsewhere, environ={"TRANSCRIBE_CONFIG": str(config)})
    assert loaded.settings.asr.language == "fr"


def test_per_author_language(tmp_path: Path) -> None:
    write_config(tmp_path, {"asr.language": "fr", "authors.dr-smith.language": "en"})
    s = load_settings(cwd=tmp_path, environ={}).settings
    assert s.language_for("dr-smith") == "en"
    assert s.language_for("dr-martin") == "fr"
    assert Settings().language_for("anyone") is None


@pytest.mark.parametrize(
    ("values", "environ", "message"),
    [
        ({"asr.modle": "small"}, {}, "unknown setting 'asr.modle'"),
        ({"inbox": "x"}, {}, "unknown setting 'inbox'"),
        ({"authors.dr-x.colour": "red"}, {}, "unknown setting"),
        ({}, {"TRANSCRIBE_ASR_MODLE": "small"}, "TRANSCRIBE_ASR_MODLE is not a setting"),
        ({"asr.beam_size": "five"}, {}, "asr.beam_size' must be int"),
        ({}, {"TRANSCRIBE_INTAKE_POLLING": "perhaps"}, "intake.polling' must be bool"),
        ({"asr.device": "gpu"}, {}, "asr.device 'gpu' must be one of"),
        ({"asr.language": "French"}, {}, "asr.language 'French'"),
        ({"worker.max_attempts": 0}, {}, "worker.max_attempts"),
        ({"text.headings": "titles"}, {}, "text.headings 'titles' must be 'dictated'"),
        ({"review.signer_without_account": "an admin"}, {}, "review.signer_without_account 'an admin' must be"),
        ({"review.signer_without_account": ""}, {}, "review.signer_without_account '' must be"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(
    tmp_path: Path, values: dict[str, object], environ: dict[str, str], message: str
) -> None:
    write_config(tmp_path, values)
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(")):
        load_settings(cwd=tmp_path, environ=environ)


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "transcribe.toml").write_text("[asr\nmodel = ")
    with pytest.raises(ConfigurationError, match="transcribe.toml: not valid TOML"):
        load_settings(cwd=tmp_path, environ={})


def test_missing_settings_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="settings file not found"):
        load_settings(tmp_path / "nope.toml", cwd=tmp_path, environ={})


def test_describe_lists_every_setting() -> None:
    flat = describe(Settings())
    assert {"asr.model", "paths.inbox", "store.url", "worker.lease_s", "intake.settle_s"} <= set(flat)


@given(st.dictionaries(st.from_regex(r"TRANSCRIBE_[A-Z_]{1,20}", fullmatch=True), st.text(max_size=20), max_size=4))
def test_environment_parser_never_crashes(environ: dict[str, str]) -> None:
    """Any environment either loads or is refused with a ConfigurationError."""
    environ.pop("TRANSCRIBE_CONFIG", None)
    try:
        load_settings(cwd=Path("/nonexistent-site"), environ=environ)
    except ConfigurationError:
        pass


@given(st.dictionaries(
    st.sampled_from(["asr.model", "asr.beam_size", "asr.device", "intake.settle_s", "worker.lease_s", "review.port",
                     "paths.inbox", "authors.dr-x.language", "filing.path", "batch.processes", "nonsense.key"]),
    st.one_of(st.text(max_size=12), st.integers(-5, 70000), st.floats(allow_nan=False, allow_infinity=False),
              st.booleans()),
    max_size=5))
@settings(deadline=None, max_examples=200)
def test_any_settings_file_loads_or_is_refused_clearly(values: dict[str, object]) -> None:
    """Whatever a settings file holds, it either loads or is refused with a ConfigurationError."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        try:
            write_config(Path(folder), values)
        except (TypeError, ValueError):
            return
        try:
            load_settings(cwd=Path(folder), environ={})
        except ConfigurationError:
            pass
