"""The ``transcribe`` command as a user types it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DICTATIONS, dictation, write_config

pytestmark = pytest.mark.engine  # runs the real model, here or in a child process (tests/each-cpu-isa.sh)


def transcribe(site: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TRANSCRIBE_")}
    return subprocess.run([sys.executable, "-m", "transcribe", *args], cwd=site, env={**clean, **(env or {})},
                          capture_output=True, text=True, timeout=300)


def transcribe_in_process(site: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The same command run by ``transcribe.commands.main`` in this process (no interpreter to start): for
    commands that start no service, engine or subprocess. The folder, environment, umask and logging are
    given back as they were."""
    import contextlib
    import io
    import logging

    from transcribe.commands import main

    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    saved_environ = dict(os.environ)
    saved_stdin = sys.stdin
    umask = os.umask(0o077)
    try:
        for key in [k for k in os.environ if k.startswith("TRANSCRIBE_")]:
            del os.environ[key]
        sys.stdin = io.StringIO(stdin)
        with contextlib.chdir(site), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        os.umask(umask)
        sys.stdin = saved_stdin
        os.environ.clear()
        os.environ.update(saved_environ)
        for handler in root.handlers:
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def test_run_prints_the_transcript_and_keeps_the_file(site: Path, shared_audio: Path, tmp_path: Path) -> None:
    clip = tmp_path / "jfk.flac"
    clip.write_bytes((shared_audio / "en" / "fw_jfk.flac").read_bytes())
    result = transcribe(site, "run", str(clip), str(dictation("fr-mg-001")))
    assert result.returncode == 0, result.stderr
    assert "fellow Americans" in result.stdout and "artérielle" in result.stdout
    assert "65" in result.stdout and "jour point" not in result.stdout.lower()  # the text layer ran ("point": ".")
    raw = transcribe(site, "run", "--raw", str(dictation("fr-mg-001")))
    assert raw.returncode == 0 and "jour point" in raw.stdout.lower()  # the engine's words, before the layer
    assert clip.exists()  # `run` copies, it does not take the user's file
    again = transcribe(site, "run", str(clip))
    assert again.returncode == 0 and "already transcribed" in again.stderr and "fellow Americans" in again.stdout
    jobs = transcribe(site, "jobs")
    assert jobs.returncode == 0
    assert "drafted" in jobs.stdout and "jfk.flac" in jobs.stdout and "0:11" in jobs.stdout


def test_run_reports_a_bad_file_and_requeue_brings_it_back(site: Path, tmp_path: Path) -> None:
    bad = tmp_path / "broken.m4a"
    bad.write_bytes(b"\x00" * 1000)
    result = transcribe(site, "run", str(bad))
    assert result.returncode == 1 and "quarantined" in result.stderr
    listed = transcribe(site, "jobs", "--state", "quarantined")
    assert "broken.m4a" in listed.stdout and "What to do" in listed.stdout
    requeued = transcribe(site, "requeue", "1")
    assert requeued.returncode == 0 and "queued again" in requeued.stdout
    assert transcribe(site, "requeue", "1").returncode == 1  # not quarantined any more
    assert "no job 42" in transcribe(site, "requeue", "42").stderr


def test_config_shows_values_and_their_sources(site: Path) -> None:
    write_config(site, {"asr.beam_size": 2})
    result = transcribe(site, "config", env={"TRANSCRIBE_ASR_LANGUAGE": "fr"})
    assert result.returncode == 0
    lines = {line.split("=")[0].strip(): line for line in result.stdout.splitlines() if "=" in line}
    assert "# file" in lines["asr.beam_size"] and "# env TRANSCRIBE_ASR_LANGUAGE" in lines["asr.language"]
    assert "# default" in lines["asr.model"]


def test_a_configuration_error_is_a_clear_message(site: Path) -> None:
    write_config(site, {"asr.devise": "cuda"})
    result = transcribe(site, "jobs")
    assert result.returncode == 2 and "unknown setting 'asr.devise'" in result.stderr
    assert "Traceback" not in result.stderr


def test_models_lists_the_bundled_default(site: Path) -> None:
    result = transcribe(site, "models")
    assert result.returncode == 0
    assert "default: bundled-base" in result.stdout and "* bundled-base" in result.stdout and "installed" in result.stdout


def test_an_unknown_model_refuses_to_start(site: Path) -> None:
    result = transcribe(site, "run", "--model", "whisper-huge", str(dictation("fr-mg-001")))
    assert result.returncode == 2 and "'whisper-huge' is not a model" in result.stderr


def test_text_cleans_plain_text_and_transcripts(site: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "transcribe", "text", "--lang", "fr"], cwd=site, capture_output=True, text=True,
        input="patient de soixante ans virgule traité par ferrosémie quarante milligrammes point", timeout=300,
    )
    assert result.returncode == 0, result.stderr
    # typed text has no audio: a misheard word is kept, and flagged with its suggestion (see --json)
    assert result.stdout.strip() == "Patient de 60 ans, traité par ferrosémie 40 mg."
    transcript = DICTATIONS / "transcripts" / "fr-mg-001.json"
    as_json = transcribe(site, "text", "--json", str(transcript))
    data = json.loads(as_json.stdout)
    assert {"source", "text", "edits", "flags", "vocabulary_version"} <= set(data)
    assert any(f["kind"] == "dose" for f in data["flags"])


def test_text_asks_for_the_language_of_plain_text(site: Path, tmp_path: Path) -> None:
    plain = tmp_path / "note.txt"
    plain.write_text("hello")
    result = transcribe(site, "text", str(plain))
    assert result.returncode == 2 and "--lang" in result.stderr


def test_patients_validate_and_file_from_the_command_line(site: Path, tmp_path: Path) -> None:
    index = tmp_path / "patients.csv"
    index.write_text("IPP;Nom;Prénom;Date de naissance\n100001;Dupont;Jean;12/03/1950\n200;Sans;Date;pas une date\n")
    imported = transcribe(site, "patients", "import", str(index))
    assert imported.returncode == 1 and "1 patients added" in imported.stdout and "line 3" in imported.stdout
    assert "100001" in transcribe(site, "patients", "find", "dupont").stdout
    clip = tmp_path / "consultation_IPP100001.opus"  # the file name names the patient
    clip.write_bytes(dictation("fr-mg-001").read_bytes())
    assert transcribe(site, "run", str(clip)).returncode == 0
    listed = transcribe(site, "jobs")
    assert "100001" in listed.stdout and "consultation" in listed.stdout
    refused = transcribe(site, "validate", "1")
    assert refused.returncode == 1 and "flagged" in refused.stderr
    validated = transcribe(site, "validate", "1", "--by", "anne", "--flags-checked", "--file")
    assert validated.returncode == 0, validated.stderr
    assert "validated (version 1) for patient 100001" in validated.stdout and "100001_DUPONT/" in validated.stdout
    assert list((site / "outbox" / "100001_DUPONT").glob("*_consultation_1.docx"))
    assert "already filed" in transcribe(site, "file", "1").stdout
    assert "nothing waits" in transcribe(site, "file").stdout


def test_every_command_refuses_where_there_is_no_site_and_init_starts_one(tmp_path: Path) -> None:
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    index = tmp_path / "patients.csv"
    index.write_text("id,family_name,given_names\n100001,Dupont,Jean\n100003,Durand,Marie-Claire\n")
    for command in (["jobs"], ["requeue", "1"], ["validate", "1"], ["file"], ["patients", "find", "dupont"],
                    ["stats"], ["proposals", "list"], ["rerun", "--since", "2024-01-01"], ["audit", "verify"], ["user", "list"],
                    ["user", "add", "anne", "--role", "secretary", "--password-stdin"], ["patients", "import", str(index)],
                    ["serve"], ["worker"], ["run", str(dictation("fr-mg-001"))], ["batch"], ["dictate"]):
        result = transcribe_in_process(elsewhere, *command)
        assert result.returncode == 2, (command, result.stderr)
        assert f"no site in {elsewhere}" in result.stderr and "--config" in result.stderr, command
        assert "transcribe init" in result.stderr, command
    assert list(elsewhere.iterdir()) == []  # no empty store, no folder was made
    for command in (["config"], ["models"]):  # what needs no site works anywhere
        assert transcribe_in_process(elsewhere, *command).returncode == 0, command
    assert list(elsewhere.iterdir()) == []
    # init makes the folder a site: then the commands work there
    started = transcribe(elsewhere, "init")  # one real process: the command as typed
    assert started.returncode == 0 and "site ready" in started.stdout, started.stderr
    assert (elsewhere / "transcribe.toml").is_file() and (elsewhere / "data" / "store.sqlite3").is_file()
    assert transcribe_in_process(elsewhere, "user", "list").returncode == 0
    assert transcribe_in_process(elsewhere, "init").returncode == 0  # again: the site stays as it is
    named = transcribe_in_process(elsewhere, "--config", str(tmp_path / "clinic" / "transcribe.toml"), "init")
    assert named.returncode == 0 and "site ready" in named.stdout, named.stderr  # a site in a new folder
    assert (tmp_path / "clinic" / "data" / "store.sqlite3").is_file()
    sections = (tmp_path / "clinic" / "transcribe.toml").read_text()
    assert "[practice]" in sections and "[report]" not in sections
    # from the site folder, or with --config, they work
    site = tmp_path / "site"
    site.mkdir()
    write_config(site, {"asr.beam_size": 2})
    index = tmp_path / "patients.csv"
    index.write_text("id,family_name,given_names\n100001,Dupont,Jean\n100003,Durand,Marie-Claire\n")
    assert transcribe_in_process(site, "patients", "import", str(index)).returncode == 0
    found = transcribe_in_process(elsewhere, "--config", str(site / "transcribe.toml"), "patients", "find", "jean dupont")
    assert found.returncode == 0 and "100001" in found.stdout and "100003" not in found.stdout
    assert "100003" in transcribe_in_process(site, "patients", "find", "Marie").stdout
    assert transcribe_in_process(site, "jobs").returncode == 0
