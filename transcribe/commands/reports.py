"""From draft to patient record: ``text``, ``validate``, ``file``, ``patients import|find|export``, ``retention``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from transcribe.commands import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    Commands,
    cli_actor,
    cli_audit,
    load_site_vocabulary,
    open_job_store,
    open_site_store,
)
from transcribe.documents.worktypes import WORKTYPES
from transcribe.errors import IdentityMismatch, TranscribeError
from transcribe.messages import LANGUAGES
from transcribe.settings_loading import LoadedSettings
from transcribe.store import JobStore


def register_text(commands: Commands) -> None:
    """Add the command that runs the medical text layer on its own: text."""
    text = commands.add_parser("text", help="run the medical text layer on plain text or a transcript JSON")
    text.add_argument("file", nargs="?", type=Path, metavar="FILE", help="text or transcript.json (default: stdin)")
    text.add_argument("--lang", choices=LANGUAGES, help="language of plain text (a transcript names its own)")
    text.add_argument("--json", action="store_true", help="print the text, the edits and the flags as JSON")
    text.set_defaults(handler=_text, needs_site=False)  # plain text or a transcript in, text out: no site


def register(commands: Commands) -> None:
    """Add the commands that turn drafts into filed reports: validate, file, patients."""
    validate = commands.add_parser(
        "validate", help="validate a draft as the report of a patient (the secretary's step)"
    )
    validate.add_argument("job_id", type=int, metavar="ID")
    validate.add_argument("--patient", help="patient id in the index (default: the one proposed)")
    validate.add_argument(
        "--by",
        dest="validator",
        default=os.environ.get("USER", "secretary"),
        help="who validates (default: the login name)",
    )
    validate.add_argument("--text", type=Path, help="the corrected report text (default: the draft text)")
    validate.add_argument("--worktype", choices=WORKTYPES)
    validate.add_argument(
        "--confirm-identity",
        action="store_true",
        help="the dictated identity disagrees with the patient, and you checked it is right",
    )
    validate.add_argument("--flags-checked", action="store_true", help="the flagged doses and terms were checked")
    validate.add_argument("--recipient", help='the addressee ("Docteur Bernard, médecin traitant"; "" : none)')
    validate.add_argument("--copy", dest="copies", action="append", help="a copy's recipient (repeat for each)")
    validate.add_argument("--file", dest="file_now", action="store_true", help="file the report at once")
    validate.set_defaults(handler=_validate)

    file = commands.add_parser("file", help="file validated reports into the patients' records (outbox/)")
    file.add_argument("job_ids", nargs="*", type=int, metavar="ID", help="jobs to file (default: every one waiting)")
    file.set_defaults(handler=_file)

    patients = commands.add_parser("patients", help="the patient index: import a CSV, find a patient")
    patient_commands = patients.add_subparsers(dest="patients_command", metavar="ACTION", required=True)
    patients_import = patient_commands.add_parser("import", help="add or update patients from a CSV file")
    patients_import.add_argument("csv", type=Path, metavar="FILE.csv")
    patients_import.set_defaults(handler=_patients_import)
    patients_find = patient_commands.add_parser("find", help="search the index by name or id")
    patients_find.add_argument("query")
    patients_find.set_defaults(handler=_patients_find)
    patients_export = patient_commands.add_parser(
        "export", help="the patient's right of access: one archive of every report filed for him (audited)"
    )
    patients_export.add_argument("patient_id", metavar="ID")
    patients_export.add_argument(
        "--audio", action="store_true", help="add the recordings the reports were dictated from"
    )
    patients_export.add_argument("--output", type=Path, help="the archive to write (default: data/exports/...)")
    patients_export.set_defaults(handler=_patients_export)

    retention = commands.add_parser(
        "retention", help="delete the audio and drafts of filed reports the site's retention policy says are due"
    )
    retention.add_argument("--dry-run", action="store_true", help="only list what is due; delete nothing")
    retention.set_defaults(handler=_retention)


def _text(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.records import transcript_from_json
    from transcribe.worker import load_text_layer

    try:
        content = args.file.read_text(encoding="utf-8") if args.file else sys.stdin.read()
    except (OSError, UnicodeDecodeError) as e:
        print(f"transcribe: {args.file}: cannot be read as UTF-8 text ({e})", file=sys.stderr)
        return EXIT_USAGE
    transcript = None
    if content.lstrip().startswith("{"):
        try:
            transcript = transcript_from_json(json.loads(content))
        except (ValueError, KeyError, TypeError) as e:
            print(f"transcribe: not a transcript JSON ({e}); give plain text or a transcript.json", file=sys.stderr)
            return EXIT_USAGE
    language = args.lang or (transcript.language if transcript else None)
    if language is None and loaded.settings.asr.language != "auto":
        language = loaded.settings.asr.language
    if language is None:
        print("transcribe: say which language the text is in: --lang fr or --lang en", file=sys.stderr)
        return EXIT_USAGE
    layer = load_text_layer(loaded.settings, warm=False)
    if transcript is not None:
        if args.lang:
            from dataclasses import replace

            transcript = replace(transcript, language=args.lang)
        result = layer.clean(transcript)
    else:
        result = layer.clean_text(content.strip(), language)
    if args.json:
        print(
            json.dumps(
                {**result.to_json(), "vocabulary_version": layer.vocabulary.version}, ensure_ascii=False, indent=2
            )
        )
    else:
        print(result.text)
    return EXIT_OK


def _validate(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.patient_record.validation import validate_report

    text = None
    if args.text:
        try:
            text = args.text.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            print(f"transcribe: {args.text}: cannot be read ({e})", file=sys.stderr)
            return EXIT_USAGE
    with open_site_store(loaded) as store:
        try:
            job = validate_report(
                loaded.settings,
                store,
                args.job_id,
                validator=args.validator,
                patient_id=args.patient,
                text=text,
                worktype=args.worktype,
                confirm_identity=args.confirm_identity,
                flags_checked=args.flags_checked,
                recipient=args.recipient,
                copies=args.copies,
                audit=cli_audit(loaded.settings, store),
            )
        except IdentityMismatch as e:
            print(
                f"transcribe: {e}. Check the audio; if the patient is right, validate again with --confirm-identity",
                file=sys.stderr,
            )
            return EXIT_FAILED
        print(f"job {job.id}: validated (version {job.report_version}) for patient {job.patient_id}")
        if args.file_now:
            return _file_jobs(loaded, store, [job.id])
    return EXIT_OK


def _file(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    with open_site_store(loaded) as store:
        ids = args.job_ids or [job.id for job in store.reports.waiting_to_be_filed()]
        if not ids:
            print("nothing waits to be filed")
            return EXIT_OK
        return _file_jobs(loaded, store, ids)


def _file_jobs(loaded: LoadedSettings, store: JobStore, ids: list[int]) -> int:
    from transcribe.patient_record.filing import file_report

    settings = loaded.settings
    vocabulary = load_site_vocabulary(settings)
    audit = cli_audit(settings, store)
    status = EXIT_OK
    for job_id in ids:
        try:
            filed = file_report(settings, store, vocabulary, job_id, audit=audit)
        except TranscribeError as e:
            print(f"transcribe: {e}", file=sys.stderr)
            status = EXIT_FAILED
            continue
        where = (
            filed.docx.relative_to(settings.paths.outbox)
            if filed.docx.is_relative_to(settings.paths.outbox)
            else filed.docx
        )
        print(f"job {job_id}: {'already filed' if filed.already_filed else 'filed'} as {where}")
        for name, outcome in filed.formats.items():
            if "refused" in outcome:
                print(f"  not filed as {name}: {outcome['refused']}", file=sys.stderr)
    return status


def _patients_import(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.patient_record.patient_import import decode_patient_csv, parse_patient_csv

    try:
        content = decode_patient_csv(args.csv.read_bytes())
    except OSError as e:
        print(f"transcribe: {args.csv}: cannot be read ({e.strerror})", file=sys.stderr)
        return EXIT_USAGE
    records, problems = parse_patient_csv(content)
    with open_job_store(loaded.settings) as store:
        added, updated = store.patients.import_patients(records, audit=cli_audit(loaded.settings, store))
    refused = [p for p in problems if not p.imported]
    print(f"{added} patients added, {updated} updated, {len(refused)} rows refused")
    for problem in problems[:50]:
        print(f"  line {problem.line}: {problem.reason}")
    return EXIT_OK if not problems else EXIT_FAILED


def _patients_export(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.patient_record.access import export_patient

    try:
        with open_site_store(loaded) as store:
            export = export_patient(
                loaded.settings,
                store,
                args.patient_id,
                requested_by=cli_actor(),
                with_audio=args.audio,
                output=args.output,
                audit=cli_audit(loaded.settings, store),
            )
    except FileExistsError:
        print(f"transcribe: {args.output} exists already: name another file (nothing is replaced)", file=sys.stderr)
        return EXIT_USAGE
    print(f"{export.path}: {export.reports} report file(s), {export.recordings} recording(s); sha256 {export.sha256}")
    for name in export.missing:
        print(f"  missing from the outbox: {name}", file=sys.stderr)
    return EXIT_OK if not export.missing else EXIT_FAILED


def _retention(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from datetime import datetime

    from transcribe.patient_record.retention import apply, due

    settings = loaded.settings
    with open_site_store(loaded) as store:
        items = due(settings, store)
        if not items:
            policy = settings.retention
            kept = policy.audio_days == 0 and policy.drafts_days == 0
            print("nothing is due" + (" (retention: audio and drafts are kept, the default)" if kept else ""))
            return EXIT_OK
        for item in items:
            when = datetime.fromtimestamp(item.due_at).date().isoformat()
            print(f"job {item.job_id}: {item.kind} due since {when} ({item.policy}), {len(item.paths)} file(s)")
        if args.dry_run:
            print(f"{len(items)} deletion(s) due; run without --dry-run to apply them")
            return EXIT_OK
        removed = apply(settings, store, items, actor=cli_actor(), audit=cli_audit(settings, store))
    print(f"{len(removed)} deletion(s) applied and recorded; filed reports are never deleted")
    return EXIT_OK if len(removed) == len(items) else EXIT_FAILED


def _patients_find(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    with open_site_store(loaded) as store:
        found = store.patients.search_patients(args.query)
    for patient in found:
        born = patient.birth_date.isoformat() if patient.birth_date else "-"
        print(f"{patient.patient_id:<12} {patient.display_name:<40} {born}  {patient.sex}")
    if not found:
        print("no patient found")
    return EXIT_OK
