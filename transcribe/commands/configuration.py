"""What the site is set up with: ``models`` and ``config``."""

from __future__ import annotations

import argparse
import json

from ..settings_loading import LoadedSettings, describe
from . import EXIT_OK, Commands


def register(commands: Commands) -> None:
    """Add the commands that show the site's set-up: models, config."""
    models = commands.add_parser("models", help="show the models available and the default")
    models.set_defaults(handler=_models)

    config = commands.add_parser("config", help="print every setting and where its value came from")
    config.set_defaults(handler=_config)


def _models(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from ..models import list_models

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
