"""Starting a site and what it is set up with: ``init``, ``models`` and ``config``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import typing

from transcribe.commands import EXIT_OK, Commands
from transcribe.intake.atomic import write_new
from transcribe.settings import CONFIG_FILE_NAME, Settings
from transcribe.settings_loading import LoadedSettings, describe, load_settings


def register(commands: Commands) -> None:
    """Add the commands that start a site and show its set-up: init, models, config (they need no site)."""
    models = commands.add_parser("models", help="show the models available and the default")
    models.set_defaults(handler=_models, needs_site=False)

    config = commands.add_parser("config", help="print every setting and where its value came from")
    config.set_defaults(handler=_config, needs_site=False)


def register_init(commands: Commands) -> None:
    """Add ``init``, which makes the current folder (or the folder of --config) a site."""
    init = commands.add_parser("init", help=f"start a new site here: write {CONFIG_FILE_NAME} and an empty job store")
    init.set_defaults(handler=_init, needs_site=False, before_settings=_write_named_config)


def _write_named_config(args: argparse.Namespace) -> None:
    """``init --config NEW/transcribe.toml``: the site starts in that file's folder."""
    if args.config is not None and not args.config.exists():
        write_new(args.config, SITE_CONFIG.encode())
        print(f"{args.config} written (every setting at its default; 'transcribe config' lists them)")


def _init(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.store import open_store

    config = loaded.config_file or loaded.settings.site / CONFIG_FILE_NAME
    if not config.exists():
        config.parent.mkdir(parents=True, exist_ok=True)
        write_new(config, SITE_CONFIG.encode())
        print(f"{config} written (every setting at its default; 'transcribe config' lists them)")
    again = load_settings(config)
    with open_store(again.settings.store_url) as store:
        print(f"site ready in {again.settings.site}: job store {store.display_url}")
    print("next: transcribe user add NAME --role admin; transcribe patients import INDEX.csv; transcribe serve")
    return EXIT_OK


def _sections() -> str:
    """The sections a settings file may hold, from the settings object itself."""
    hints = typing.get_type_hints(Settings)
    named = [f"[{f.name}]" for f in dataclasses.fields(Settings) if dataclasses.is_dataclass(hints[f.name])]
    return " ".join([*named, "[authors.NAME]"])


SITE_CONFIG = f"""\
# The settings of this site ('transcribe config' shows every value and where it came from).
# This file marks the folder as a site: the transcribe commands run here, or with --config {CONFIG_FILE_NAME}.
# Sections: {_sections()}
"""


def _models(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.speech.model_location import list_models

    settings = loaded.settings
    print(f"default: {settings.asr.model}  (asr.model, from {loaded.sources['asr.model']})\n")
    listings = list_models(settings.paths.models)
    width = max(len(m.name) for m in listings)
    for listing in listings:
        marker = "*" if listing.name == settings.asr.model else " "
        print(f"{marker} {listing.name.ljust(width)}  {listing.kind:<7}  {listing.available}")
    print(f"\nlocal model folders go in {settings.paths.models}/<name>/ (CTranslate2 format)")
    return EXIT_OK


def _config(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    values = describe(loaded.settings)
    width = max(len(key) for key in values)
    print(f"# settings file: {loaded.config_file or 'none (defaults, environment and flags only)'}")
    for key, value in values.items():
        shown = str(value) if not isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        print(f"{key.ljust(width)} = {shown}  # {loaded.sources.get(key, 'default')}")
    return EXIT_OK
