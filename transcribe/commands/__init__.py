"""The ``transcribe`` command. Only this package turns errors into messages and exit codes.

Each area of the command is its own module, registering its subcommands and holding their handlers:
``intake`` (serve, worker, run, batch, dictate, jobs, requeue), ``reports`` (text, validate, file,
patients), ``coding`` (codes), ``accounts`` (user, audit), ``learning`` (stats, proposals, rerun) and
``configuration`` (init, models, config). Every command but ``init``, ``text``, ``codes suggest``,
``codes find``, ``models`` and ``config`` refuses to run where there is no site (``require_site``). This module holds the entry point, the global options and what the areas share.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from transcribe import __version__
from transcribe.errors import ConfigurationError, TranscribeError
from transcribe.settings import CONFIG_FILE_NAME, Settings
from transcribe.settings_loading import LoadedSettings, load_settings
from transcribe.store import JobStore, open_store
from transcribe.vocabulary.specialties import SPECIALTIES

if TYPE_CHECKING:
    from transcribe.security.audit import Auditor
    from transcribe.vocabulary.records import Vocabulary

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What ``add_subparsers`` returns: where an area registers its subcommands."""

Handler: TypeAlias = Callable[[argparse.Namespace, LoadedSettings], int]
"""A subcommand's handler, set as the ``handler`` default of its parser."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``transcribe`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    os.umask(0o077)  # everything the pipeline writes holds patient data: private to its user
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        before_settings = getattr(args, "before_settings", None)
        if before_settings is not None:
            before_settings(args)  # init: the settings file it is told to start is written first
        loaded = load_settings(args.config, flags=_flags(args))
        _configure_logging(loaded.settings, args)
        if getattr(args, "needs_site", True):
            require_site(loaded)  # before any store, folder or model is touched
        handler: Handler = args.handler
        return int(handler(args, loaded))
    except ConfigurationError as e:
        print(f"transcribe: configuration error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except TranscribeError as e:
        print(f"transcribe: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into head or less, closed early
        sys.stderr.close()
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    # imported here: the areas import this module's helpers, so it must be complete first
    from transcribe.commands import accounts, coding, configuration, intake, learning, reports

    parser = argparse.ArgumentParser(
        prog="transcribe",
        description="Medical dictation: inbox -> transcription -> draft report -> review -> patient record.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config", type=Path, help="settings file (default: ./transcribe.toml if present)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more (DEBUG)")
    parser.add_argument("-q", "--quiet", action="store_true", help="log only warnings and errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    # the order of the `transcribe --help` listing, which interleaves the intake and report areas
    configuration.register_init(commands)  # init
    intake.register(commands)  # serve worker run batch dictate
    reports.register_text(commands)  # text
    intake.register_queue(commands)  # jobs requeue
    reports.register(commands)  # validate file patients
    coding.register(commands)  # codes
    accounts.register(commands)  # user audit
    learning.register(commands)  # stats proposals rerun
    configuration.register(commands)  # models config
    return parser


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """Add --model, --device, --language and --specialty, which override the asr settings."""
    parser.add_argument("--model", help="model: bundled-base, a folder under models/, a path, or a size name")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], help="where the model runs")
    parser.add_argument("--language", help="language code (fr, en...) or auto")
    parser.add_argument(
        "--specialty",
        choices=SPECIALTIES,
        help="the specialty of authors who have none set (tells the engine its usual words)",
    )


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "asr.model": getattr(args, "model", None),
        "asr.device": getattr(args, "device", None),
        "asr.language": getattr(args, "language", None),
        "asr.specialty": getattr(args, "specialty", None),
    }


def _configure_logging(settings: Settings, args: argparse.Namespace) -> None:
    level = "DEBUG" if args.verbose else "WARNING" if args.quiet else settings.log_level.upper()
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("faster_whisper", "watchdog", "httpx", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def require_site(loaded: LoadedSettings) -> None:
    """Refuse to work where there is no site: no settings file, no store URL and no job store.

    Every command that uses the store, the inbox or the outbox asks this first (``main``), so that
    a command typed in the wrong folder never starts an empty store there; ``transcribe init``
    makes a new site.
    """
    settings = loaded.settings
    embedded = settings.paths.data / "store.sqlite3"
    if loaded.config_file is None and not settings.store.url and not embedded.is_file():
        raise ConfigurationError(
            f"no site in {settings.site}: it has no {CONFIG_FILE_NAME} and no job store ({embedded} does not exist); "
            f"run the command from the site folder, or pass --config SITE/{CONFIG_FILE_NAME}; "
            "to start a new site in this folder, run 'transcribe init' first"
        )


def open_job_store(settings: Settings) -> JobStore:
    """Open the site's job store (``main`` has checked that there is a site), creating its tables if new."""
    return open_store(settings.store_url)


def open_site_store(loaded: LoadedSettings) -> JobStore:
    """Open the job store of the site a command reads; refuse where there is no site, never make an empty store."""
    require_site(loaded)
    return open_store(loaded.settings.store_url)


def cli_actor() -> str:
    """Who acts from the command line, as the audit trail names him: ``cli:`` and his login name."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in the environment nor in the password database
        return f"cli:uid-{os.getuid()}"


def cli_audit(settings: Settings, store: JobStore) -> Auditor:
    """The site's audit trail as the person at the command line writes to it."""
    from transcribe.security.audit import AuditTrail

    return AuditTrail.of_site(store, settings).by(cli_actor())


def load_site_vocabulary(settings: Settings) -> Vocabulary:
    """Load the vocabulary with the site's additions (cached beside the models)."""
    from transcribe.vocabulary.watch import load_site_vocabulary as load

    return load(settings)
