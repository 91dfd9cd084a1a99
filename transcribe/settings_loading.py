"""Building the settings object: ``transcribe.toml``, then the environment, then the flags; checked.

Precedence, highest first: command-line flag > ``TRANSCRIBE_*`` environment
variable > ``transcribe.toml`` > built-in default. Every value remembers where
it came from, for ``transcribe config``. Unknown keys, in the file or in the
environment, are an error: a typo must not silently fall back to a default.

Environment variables are named ``TRANSCRIBE_<SECTION>_<KEY>`` in capitals,
for example ``TRANSCRIBE_ASR_MODEL=small`` or ``TRANSCRIBE_INTAKE_SETTLE_S=2``.
``TRANSCRIBE_CONFIG`` names the settings file.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transcribe.documents.exchange import FORMATS
from transcribe.documents.sections import HEADINGS
from transcribe.documents.worktypes import WORKTYPES
from transcribe.errors import ConfigurationError
from transcribe.messages import LANGUAGES
from transcribe.settings import (
    COMPUTE_TYPES,
    CONFIG_ENV,
    CONFIG_FILE_NAME,
    DEVICES,
    ENV_PREFIX,
    AsrSettings,
    AuthorSettings,
    BatchSettings,
    FilingSettings,
    IntakeSettings,
    PathSettings,
    PracticeSettings,
    RetentionSettings,
    ReviewSettings,
    Settings,
    StoreSettings,
    TextSettings,
    WorkerSettings,
)
from transcribe.vocabulary.specialties import SPECIALTIES


@dataclass(frozen=True)
class LoadedSettings:
    """The settings with, for each dotted key, where its value came from."""

    settings: Settings
    sources: dict[str, str]
    config_file: Path | None


def load_settings(
    config_file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
    cwd: Path | None = None,
) -> LoadedSettings:
    """Build the settings from defaults, the TOML file, the environment and flags."""
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    config_file = _find_config_file(config_file, environ, cwd)

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if config_file is not None:
        for key, value in _flatten(_read_toml(config_file)).items():
            values[key] = value
            sources[key] = f"file {config_file}"
    for key, value in _environment_values(environ).items():
        values[key] = value
        sources[key] = f"env {ENV_PREFIX}{key.replace('.', '_').upper()}"
    for key, value in (flags or {}).items():
        if value is not None:
            values[key] = value
            sources[key] = "flag"

    site = config_file.parent if config_file is not None else cwd
    settings = _build(values, site.resolve())
    _check(settings)
    all_sources = {key: sources.get(key, "default") for key in describe(settings)}
    return LoadedSettings(settings, all_sources, config_file)


def describe(settings: Settings) -> dict[str, Any]:
    """Every setting as a flat mapping of dotted keys to values."""
    flat: dict[str, Any] = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if dataclasses.is_dataclass(value):
            for sub in dataclasses.fields(value):
                flat[f"{f.name}.{sub.name}"] = getattr(value, sub.name)
        elif isinstance(value, dict):
            for name, author in value.items():
                for sub in dataclasses.fields(author):
                    flat[f"{f.name}.{name}.{sub.name}"] = getattr(author, sub.name)
        else:
            flat[f.name] = value
    flat["store.url"] = settings.store_url
    return flat


def _find_config_file(explicit: Path | None, environ: Mapping[str, str], cwd: Path) -> Path | None:
    if explicit is None and environ.get(CONFIG_ENV):
        explicit = Path(environ[CONFIG_ENV])
    if explicit is not None:
        explicit = explicit if explicit.is_absolute() else cwd / explicit
        if not explicit.is_file():
            raise ConfigurationError(f"{explicit}: settings file not found")
        return explicit
    candidate = cwd / CONFIG_FILE_NAME
    return candidate if candidate.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as e:
        raise ConfigurationError(f"{path}: not valid TOML ({e}); fix the file and start again") from e
    except OSError as e:
        raise ConfigurationError(f"{path}: cannot read the settings file ({e.strerror})") from e


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def _section_fields() -> dict[str, dict[str, Any]]:
    hints = typing.get_type_hints(Settings)
    sections: dict[str, dict[str, Any]] = {}
    for f in dataclasses.fields(Settings):
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            sections[f.name] = typing.get_type_hints(kind)
    return sections


def _environment_values(environ: Mapping[str, str]) -> dict[str, str]:
    sections = _section_fields()
    top = {name for name in typing.get_type_hints(Settings) if name not in sections and name != "authors"}
    found: dict[str, str] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        key = _match_env_key(rest, sections, top)
        if key is None:
            raise ConfigurationError(
                f"environment variable {name} is not a setting; "
                "run 'transcribe config' to list the settings and their names"
            )
        found[key] = value
    return found


def _match_env_key(rest: str, sections: dict[str, dict[str, Any]], top: set[str]) -> str | None:
    if rest in top:
        return rest
    for section, fields in sections.items():
        if rest.startswith(section + "_") and rest[len(section) + 1 :] in fields:
            return f"{section}.{rest[len(section) + 1 :]}"
    return None


def _build(values: dict[str, Any], site: Path) -> Settings:
    sections = _section_fields()
    top_hints = typing.get_type_hints(Settings)
    section_values: dict[str, dict[str, Any]] = {name: {} for name in sections}
    authors: dict[str, dict[str, Any]] = {}
    top: dict[str, Any] = {}
    for key, raw in values.items():
        parts = key.split(".")
        if parts[0] == "authors" and len(parts) == 3:
            author_hints = typing.get_type_hints(AuthorSettings)
            if parts[2] not in author_hints:
                raise _unknown(key)
            authors.setdefault(parts[1], {})[parts[2]] = _coerce(key, raw, author_hints[parts[2]])
        elif len(parts) == 2 and parts[0] in sections and parts[1] in sections[parts[0]]:
            section_values[parts[0]][parts[1]] = _coerce(key, raw, sections[parts[0]][parts[1]])
        elif len(parts) == 1 and parts[0] in top_hints and parts[0] not in sections and parts[0] != "authors":
            top[parts[0]] = _coerce(key, raw, top_hints[parts[0]])
        else:
            raise _unknown(key)

    site = (site / top["site"]).resolve() if "site" in top else site
    top["site"] = site
    paths = PathSettings(**section_values["paths"])
    paths = PathSettings(**{f.name: _under(site, getattr(paths, f.name)) for f in dataclasses.fields(paths)})
    derived = {name: paths.data / name for name in ("archive", "drafts") if name not in section_values["paths"]}
    if "site_key" not in section_values["paths"]:
        derived["site_key"] = paths.data / "site.key"
    paths = dataclasses.replace(paths, **derived)  # by default they live in the data folder
    asr = AsrSettings(**section_values["asr"])
    asr = dataclasses.replace(asr, model_cache=_under(site, asr.model_cache.expanduser()))
    return Settings(
        **top,
        paths=paths,
        store=StoreSettings(**section_values["store"]),
        intake=IntakeSettings(**section_values["intake"]),
        asr=asr,
        text=TextSettings(**section_values["text"]),
        practice=PracticeSettings(**section_values["practice"]),
        filing=FilingSettings(**section_values["filing"]),
        review=ReviewSettings(**section_values["review"]),
        batch=BatchSettings(**section_values["batch"]),
        worker=WorkerSettings(**section_values["worker"]),
        retention=RetentionSettings(**section_values["retention"]),
        authors={name: AuthorSettings(**fields) for name, fields in authors.items()},
    )


def _under(site: Path, path: Path) -> Path:
    return path if path.is_absolute() else site / path


#: settings that were renamed or replaced: what to write instead
REPLACED = {
    "asr.audio_judge": "asr.audio_evidence (the audio now scores every doubtful medical word: docs/biasing.md)",
}


def _unknown(key: str) -> ConfigurationError:
    if key in REPLACED:
        return ConfigurationError(f"the setting '{key}' was replaced by {REPLACED[key]}; remove it or rename it")
    return ConfigurationError(f"unknown setting '{key}'; run 'transcribe config' to list the settings")


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(key: str, raw: Any, kind: Any) -> Any:
    """Turn a value from TOML or the environment into the field's type, or refuse it."""
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        kind = next(k for k in typing.get_args(kind) if k is not type(None))
    if typing.get_origin(kind) is tuple:  # a list of words: a TOML array, or "a,b" in the environment
        items = raw.split(",") if isinstance(raw, str) else raw
        if isinstance(items, (list, tuple)) and all(isinstance(item, str) for item in items):
            return tuple(item.strip() for item in items if item.strip())
        raise ConfigurationError(f"setting '{key}' must be a list of words (in the environment: a,b), got {raw!r}")
    try:
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
                return raw.strip().lower() in _TRUE
            raise ValueError
        if kind is int:
            if isinstance(raw, (bool, float)):
                raise ValueError
            return int(raw)
        if kind is float:
            if isinstance(raw, bool):
                raise ValueError
            return float(raw)
        if kind is Path:
            if not isinstance(raw, (str, Path)) or str(raw) == "":
                raise ValueError
            return Path(raw)
        if kind is str:
            if not isinstance(raw, str):
                raise ValueError
            return raw
    except (TypeError, ValueError):
        pass
    else:
        raise ConfigurationError(f"setting '{key}' has an unsupported type")
    raise ConfigurationError(f"setting '{key}' must be {getattr(kind, '__name__', kind)}, got {raw!r}")


_LANGUAGE = re.compile(r"^(auto|[a-z]{2,3})$")


FILING_FIELDS = ("patient_id", "FAMILY", "family", "given", "date", "worktype", "job", "author")


def _check_filing_path(template: str) -> None:
    """The filing path may only use the documented fields, and must stay inside the outbox."""
    import string

    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as e:
        raise ConfigurationError(f"filing.path '{template}' is not a valid pattern ({e})") from e
    unknown = [f for f in fields if f not in FILING_FIELDS]
    if unknown:
        raise ConfigurationError(
            f"filing.path uses unknown field(s) {', '.join(unknown)}; known: {', '.join(FILING_FIELDS)}"
        )
    if "job" not in fields or template.startswith("/") or ".." in template.split("/"):
        raise ConfigurationError(
            "filing.path must contain {job} (so no two reports share a name) and stay inside the outbox"
        )


def _check(settings: Settings) -> None:
    asr = settings.asr
    if asr.device not in DEVICES:
        raise ConfigurationError(f"asr.device '{asr.device}' must be one of: {', '.join(DEVICES)}")
    if asr.compute_type not in COMPUTE_TYPES:
        raise ConfigurationError(f"asr.compute_type '{asr.compute_type}' must be one of: {', '.join(COMPUTE_TYPES)}")
    if asr.prompt not in ("off", "author"):
        raise ConfigurationError(f"asr.prompt '{asr.prompt}' must be 'off' or 'author'")
    if asr.biasing not in ("off", "hotwords"):
        raise ConfigurationError(f"asr.biasing '{asr.biasing}' must be 'hotwords' or 'off'")
    specialties = [("asr.specialty", asr.specialty)] + [
        (f"authors.{n}.specialty", a.specialty) for n, a in settings.authors.items()
    ]
    for key, specialty in specialties:
        if specialty and specialty not in SPECIALTIES:
            raise ConfigurationError(f"{key} '{specialty}' is not a specialty; use one of: {', '.join(SPECIALTIES)}")
    if asr.cpu_threads < 0 or asr.beam_size < 1:
        raise ConfigurationError("asr.cpu_threads must be 0 (all cores) or more, and asr.beam_size 1 or more")
    languages = [("asr.language", asr.language)]
    languages += [(f"authors.{name}.language", a.language) for name, a in settings.authors.items()]
    languages += [("asr.languages", code) for code in settings.site_languages]
    if not settings.site_languages or not 0.0 <= settings.asr.min_language_probability <= 1.0:
        raise ConfigurationError(
            'asr.languages must list at least one language code ("fr,en"), and '
            "asr.min_language_probability be between 0 and 1"
        )
    for key, language in languages:
        if not _LANGUAGE.match(language):
            raise ConfigurationError(f"{key} '{language}' must be 'auto' or a language code such as 'fr' or 'en'")
    if settings.intake.settle_s < 0 or settings.intake.poll_interval_s <= 0 or settings.intake.sidecar_wait_s < 0:
        raise ConfigurationError(
            "intake.settle_s and intake.sidecar_wait_s must be 0 or more, and intake.poll_interval_s more than 0"
        )
    if settings.worker.max_attempts < 1 or settings.worker.lease_s <= 0 or settings.worker.poll_s <= 0:
        raise ConfigurationError("worker.max_attempts must be 1 or more; worker.lease_s and worker.poll_s more than 0")
    if not 0 <= settings.worker.retry_base_s <= settings.worker.retry_max_s:
        raise ConfigurationError(
            "worker.retry_base_s must be 0 or more, and worker.retry_max_s at least worker.retry_base_s"
        )
    for name, author in settings.authors.items():
        if author.worktype and author.worktype not in WORKTYPES:
            raise ConfigurationError(f"authors.{name}.worktype '{author.worktype}' is not a worktype")
    _check_filing_path(settings.filing.path)
    if settings.filing.pdf_timeout_s <= 0:
        raise ConfigurationError("filing.pdf_timeout_s must be more than 0 (seconds)")
    unknown_formats = [f for f in settings.filing.formats if f not in FORMATS]
    if unknown_formats:
        raise ConfigurationError(
            f"filing.formats names {', '.join(unknown_formats)}, which is not an exchange format; "
            f"use any of: {', '.join(FORMATS)} (the DOCX is always filed)"
        )
    if settings.retention.audio_days < 0 or settings.retention.drafts_days < 0:
        raise ConfigurationError(
            "retention.audio_days and retention.drafts_days must be 0 (kept) or a number of days after filing"
        )
    for name, author in settings.authors.items():
        if author.rpps and not re.fullmatch(r"\d{11}", author.rpps):
            raise ConfigurationError(f"authors.{name}.rpps '{author.rpps}' must be the 11 digits of an RPPS number")
    practice = settings.practice
    if practice.finess and not re.fullmatch(r"\d{9}|\d{2}[AB]\d{6}", practice.finess):
        raise ConfigurationError(f"practice.finess '{practice.finess}' must be a FINESS number (9 characters)")
    if practice.siret and not re.fullmatch(r"\d{14}", practice.siret):
        raise ConfigurationError(f"practice.siret '{practice.siret}' must be the 14 digits of a SIRET number")
    if practice.oid and not re.fullmatch(r"[0-2](\.(0|[1-9]\d*))+", practice.oid):
        raise ConfigurationError(f"practice.oid '{practice.oid}' must be an OID (digits and dots: 1.2.250.1...)")
    if settings.batch.window_files < 1 or settings.batch.batch_size < 1 or settings.batch.processes < 0:
        raise ConfigurationError("batch.window_files and batch.batch_size must be 1 or more")
    if settings.store.outage_limit_s <= 0 or settings.store.retry_max_s <= 0:
        raise ConfigurationError("store.outage_limit_s and store.retry_max_s must be more than 0 (seconds)")
    if settings.review.language not in LANGUAGES or not 0 < settings.review.port < 65536:
        raise ConfigurationError("review.language must be 'fr' or 'en', and review.port a port number")
    if settings.text.abbreviations not in ("keep", "expand", "first-use"):
        raise ConfigurationError("text.abbreviations must be keep, expand or first-use")
    if settings.text.headings not in HEADINGS:
        raise ConfigurationError(
            f"text.headings '{settings.text.headings}' must be 'dictated' (a heading keeps the words dictated) "
            "or 'standard' (each section gets its title from vocab/<lang>/sections.tsv)"
        )
    signer = settings.review.signer_without_account
    if not signer.strip() or signer != signer.strip() or any(c.isspace() for c in signer):
        raise ConfigurationError(
            f"review.signer_without_account '{signer}' must be 'admin' (an administrator signs), 'nobody' "
            "(filed without a signature) or the user name of a doctor (transcribe user list)"
        )
    if settings.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigurationError("log_level must be DEBUG, INFO, WARNING or ERROR")
