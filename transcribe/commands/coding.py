"""Coding from the command line: ``codes suggest``, ``codes import``, ``codes sets``, ``codes find``, ``codes export``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from transcribe.commands import EXIT_OK, EXIT_USAGE, Commands, cli_actor, open_site_store, require_site
from transcribe.errors import ConfigurationError
from transcribe.messages import LANGUAGES
from transcribe.settings_loading import LoadedSettings

if TYPE_CHECKING:
    from transcribe.coding.site import SiteCoding


def register(commands: Commands) -> None:
    """Add the coding commands: codes suggest, import, sets, find, export."""
    codes = commands.add_parser("codes", help="diagnosis and act codes: suggest, import the official sets, export")
    actions = codes.add_subparsers(dest="codes_command", metavar="ACTION", required=True)

    suggest = actions.add_parser("suggest", help="print the codes suggested for a text, with the words for each")
    suggest.add_argument("file", nargs="?", type=Path, metavar="FILE", help="the text (default: stdin)")
    suggest.add_argument("--lang", choices=LANGUAGES, help="language of the text (default: the site's)")
    suggest.add_argument("--json", action="store_true", help="print the suggestions as JSON")
    suggest.set_defaults(handler=_suggest, needs_site=False)  # text in, codes out: a site adds its imported sets

    imports = actions.add_parser("import", help="import an official code set (ATIH CIM-10, CCAM, CMS ICD-10-CM)")
    imports.add_argument("file", type=Path, metavar="FILE")
    imports.add_argument("--version", help="the date the set applies from (YYYY-MM-DD), when the file does not say")
    imports.set_defaults(handler=_import)

    sets = actions.add_parser("sets", help="list the code sets in use: imported, or shipped with the packages")
    sets.set_defaults(handler=_sets)

    find = actions.add_parser("find", help="find codes by their words or by the code itself")
    find.add_argument("query", metavar="QUERY")
    find.add_argument("--lang", choices=LANGUAGES, help="the language's systems (default: every system)")
    find.set_defaults(handler=_find, needs_site=False)

    export = actions.add_parser("export", help="write the act codes of validated reports as CSV, for billing")
    export.add_argument(
        "--since", required=True, type=_day, metavar="DATE", help="reports dictated on or after (YYYY-MM-DD)"
    )
    export.add_argument("--output", "-o", type=Path, metavar="FILE", help="write there (default: stdout)")
    export.set_defaults(handler=_export)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date: write it YYYY-MM-DD") from e


def _site_coding(loaded: LoadedSettings) -> SiteCoding:
    """The site's coding where there is a site (its imported sets), else the shipped sets only."""
    from transcribe.coding.site import SiteCoding

    try:
        require_site(loaded)
    except ConfigurationError:
        return SiteCoding.of_site(loaded.settings, None)
    with open_site_store(loaded) as store:
        return SiteCoding.of_site(loaded.settings, store)


def _suggest(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    try:
        text = args.file.read_text(encoding="utf-8") if args.file else sys.stdin.read()
    except (OSError, UnicodeDecodeError) as e:
        print(f"transcribe: {args.file}: cannot be read as UTF-8 text ({e})", file=sys.stderr)
        return EXIT_USAGE
    language = args.lang or (loaded.settings.asr.language if loaded.settings.asr.language != "auto" else None)
    if language is None:
        print("transcribe: say which language the text is in: --lang fr or --lang en", file=sys.stderr)
        return EXIT_USAGE
    coding = _site_coding(loaded)
    suggester = coding.suggester(language)
    if suggester is None:
        print(f"transcribe: no codes for reports in '{language}' (fr, en)", file=sys.stderr)
        return EXIT_USAGE
    found = suggester.suggest(text)
    if args.json:
        print(json.dumps(found.to_json(), ensure_ascii=False, indent=2))
    else:
        for s in found.suggestions:
            words = " / ".join(f"« {e.text} »" for e in s.evidence)
            print(f"{s.code}\t{s.label}\t{s.kind}\t{words}")
        for aside in found.set_aside:
            print(f"# not suggested: {aside.code} « {aside.evidence.text} » ({', '.join(aside.reasons)})")
    from transcribe.coding.records import SYSTEMS

    for system in found.missing_sets:
        print(
            f"transcribe: the text names {SYSTEMS[system].title} codes, but no {SYSTEMS[system].title} set is imported "
            "here; import the official file with 'transcribe codes import FILE'",
            file=sys.stderr,
        )
    return EXIT_OK


def _import(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.coding.official_files import read_code_set
    from transcribe.coding.records import SYSTEMS

    try:
        content = args.file.read_bytes()
    except OSError as e:
        print(f"transcribe: {args.file}: cannot be read ({e.strerror})", file=sys.stderr)
        return EXIT_USAGE
    found = read_code_set(args.file.name, content, version=args.version)
    with open_site_store(loaded) as store:
        info = store.codes.import_code_set(
            found.system,
            found.version,
            source=found.source,
            file_kind=found.file_kind,
            labels=found.labels,
            by=cli_actor(),
        )
    print(f"{SYSTEMS[info.system].title} of {info.version}: {info.entries} codes imported from {info.source}")
    return EXIT_OK


def _sets(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.coding.records import SYSTEMS

    coding = _site_coding(loaded)
    for system in SYSTEMS.values():
        table = coding.catalogue.table(system.name)
        if table is None:
            print(f"{system.title}\t(none: import the official file with 'transcribe codes import FILE')")
        else:
            print(f"{system.title}\t{table.version}\t{len(table.labels)} codes\t{table.source}")
    return EXIT_OK


def _find(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.coding.records import SYSTEMS, systems_of

    coding = _site_coding(loaded)
    systems = [s.name for s in systems_of(args.lang)] if args.lang else list(SYSTEMS)
    for entry in coding.catalogue.search(args.query, systems, limit=30):
        print(f"{entry.code}\t{entry.label}\t{SYSTEMS[entry.system].title}")
    return EXIT_OK


def _export(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.coding.billing import billing_csv
    from transcribe.intake.atomic import write_atomic

    with open_site_store(loaded) as store:
        rows = store.codes.billed_reports(args.since)
        patients = {r.patient_id: store.patients.patient(r.patient_id) for r in rows}
    text, count = billing_csv(rows, patients)
    if args.output:
        write_atomic(args.output, text.encode("utf-8"))
        print(f"{count} report(s) with act codes written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK
