"""Learning from the validated reports: ``stats``, ``proposals``, ``calibrate`` and ``rerun``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime

from transcribe.commands import EXIT_OK, EXIT_USAGE, Commands, cli_audit, load_site_vocabulary, open_site_store
from transcribe.intake.atomic import write_atomic
from transcribe.settings_loading import LoadedSettings


def register(commands: Commands) -> None:
    """Add the commands that measure and improve the drafts: stats, proposals, calibrate, rerun."""
    stats = commands.add_parser("stats", help="accuracy of the drafts against the validated reports")
    stats.add_argument(
        "--by", choices=["author", "worktype", "language", "model", "vocabulary", "week"], default="author"
    )
    stats.add_argument("--author", help="only this author's reports")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(handler=_stats)

    proposals = commands.add_parser("proposals", help="vocabulary proposals learnt from the validated reports")
    proposal_commands = proposals.add_subparsers(dest="proposals_command", metavar="ACTION")
    proposals.set_defaults(handler=_proposals_list)
    proposal_list = proposal_commands.add_parser("list", help="refresh and list the open proposals")
    proposal_list.set_defaults(handler=_proposals_list)
    for action in ("replay", "accept", "reject"):
        command = proposal_commands.add_parser(
            action,
            help={
                "replay": "show a proposal's effect on its author's past validated dictations",
                "accept": "add it to the site vocabulary (a running service uses it from its next dictation)",
                "reject": "refuse it",
            }[action],
        )
        command.add_argument("proposal_id", type=int, metavar="ID")
        if action == "accept":
            command.add_argument(
                "--all-authors",
                action="store_true",
                help="a correction applies to every author's dictations (default: only to the author it was learnt from)",
            )
        command.set_defaults(handler=_proposals_decide, action=action)

    calibrate = commands.add_parser(
        "calibrate",
        help="choose the thresholds of the audio's rule for the site's model, on its validated reports",
    )
    calibrate.add_argument(
        "--apply", action="store_true", help="write them for the site (paths.audio_rule), used from the next dictation"
    )
    calibrate.set_defaults(handler=_calibrate)

    rerun = commands.add_parser(
        "rerun", help="transcribe again the dictations not yet validated (after a vocabulary or model change)"
    )
    rerun.add_argument("--since", required=True, help="date (YYYY-MM-DD): dictations received since then")
    rerun.add_argument("--author")
    rerun.add_argument("--include-started", action="store_true", help="also those a secretary has started reviewing")
    rerun.add_argument("--dry-run", action="store_true", help="only say which dictations would run again")
    rerun.set_defaults(handler=_rerun)


def _stats(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.learning.accuracy import accuracy, validated_cases

    with open_site_store(loaded) as store:
        figures = accuracy(validated_cases(store, author=args.author), load_site_vocabulary(loaded.settings), args.by)
    if args.json:
        print(json.dumps(figures, indent=2))
        return EXIT_OK
    if not figures:
        print("no validated report yet")
        return EXIT_OK
    print(f"{args.by:<16} {'reports':>7} {'words':>7} {'WER':>7} {'terms':>7} {'reverted':>9} {'review/audio':>13}")
    for key, f in figures.items():
        print(
            f"{key:<16} {f['reports']:>7} {f['words']:>7} {_percent(f['word_error_rate']):>7} "
            f"{_percent(f['term_error_rate']):>7} {_percent(f['edits_reverted']):>9} "
            f"{(str(f['review_minutes_per_audio_minute']) + ' min/min') if f['review_minutes_per_audio_minute'] is not None else '-':>13}"
        )
    return EXIT_OK


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _proposals_list(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.learning.accuracy import list_proposals, refresh_proposals

    with open_site_store(loaded) as store:
        refresh_proposals(store, load_site_vocabulary(loaded.settings))
        open_ones = list_proposals(store)
    for p in open_ones:
        forms = ", ".join(f"'{form}' x{n}" for form, n in p.wrong_forms)
        what = {
            "term": f"add the term '{p.target}'",
            "biasing": f"add '{p.target}' to the words the engine expects from {p.author}",
        }.get(p.kind, f"write '{p.target}' for {forms}")
        effect = (
            f"  [replayed: {p.effect.errors_fixed} fixed, {p.effect.errors_introduced} introduced]" if p.effect else ""
        )
        print(f"#{p.id:<4} {p.language} {p.author:<14} {what}  (seen {p.count} times){effect}")
    if not open_ones:
        print("no open proposal")
    return EXIT_OK


def _proposals_decide(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.learning.accuracy import decide, replay

    with open_site_store(loaded) as store:
        if args.action == "replay":
            effect = replay(store, load_site_vocabulary(loaded.settings), args.proposal_id)
            print(
                f"proposal #{args.proposal_id} on {effect.dictations} validated dictations of its author: "
                f"{effect.errors_fixed} word errors fixed, {effect.errors_introduced} introduced"
            )
        else:
            decided = decide(
                store,
                loaded.settings,
                args.proposal_id,
                accept=args.action == "accept",
                by=os.environ.get("USER", "admin"),
                every_author=getattr(args, "all_authors", False),
                audit=cli_audit(loaded.settings, store),
            )
            print(
                f"proposal #{args.proposal_id} {decided.status}"
                + (" (a running service uses it from its next dictation)" if decided.status == "accepted" else "")
            )
    return EXIT_OK


#: validated reports with the audio's evidence needed before a site's own calibration is written
MIN_CALIBRATION_REPORTS = 20


def _calibrate(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.learning.accuracy import validated_cases
    from transcribe.learning.calibration import Case, choose, curve, tally
    from transcribe.records import transcript_from_json
    from transcribe.text import TextLayer
    from transcribe.text.evidence import rule_for_model

    settings = loaded.settings
    model = settings.asr.model
    with open_site_store(loaded) as store:
        cases = []
        for case in validated_cases(store):
            try:
                data = json.loads(case.transcript_path.read_text(encoding="utf-8")) if case.transcript_path else None
            except (OSError, ValueError):
                data = None
            if data and data.get("model") == model and data.get("options", {}).get("audio_evidence") is not None:
                cases.append(Case(transcript_from_json(data), case.validated))
        layer = TextLayer(load_site_vocabulary(settings))
        current = rule_for_model(model, settings.paths.audio_rule)
        print(f"{len(cases)} validated reports of model '{model}' with the audio's evidence")
        if not cases:
            print("nothing to calibrate on: drafts record the audio's evidence when asr.audio_evidence is on")
            return EXIT_OK
        now = tally(cases, current, layer.vocabulary.for_language, layer.term_nearness)
        print(
            f"the rule in use ({current.calibrated_on or 'shipped'}): {now.right} right corrections, {now.wrong} wrong, "
            f"{now.reverted} list terms taken back ({now.reverted_wrongly} that were said)"
        )
        print("\nright / wrong corrections as each threshold moves (the others as in use):")
        for name, value, result in curve(cases, current, layer.vocabulary.for_language, layer.term_nearness):
            mark = "*" if getattr(current, name) == value else " "
            print(
                f"  {name:<15} {value:>6g}{mark} {result.right:>4} / {result.wrong:<4}"
                f" list terms taken back {result.reverted} ({result.reverted_wrongly} said)"
            )
        chosen, result = choose(
            cases, model, layer.vocabulary.for_language, layer.term_nearness,
            calibrated_on=f"{len(cases)} validated reports of this site, {datetime.now(UTC).date()}",
        )  # fmt: skip
        print(
            f"\nchosen: {json.dumps({k: v for k, v in chosen.to_json().items() if k != 'calibrated_on'})}\n"
            f"  {result.right} right corrections, {result.wrong} wrong, {result.reverted} list terms taken back"
        )
        if not args.apply:
            print("(not written: --apply writes it for the site)")
            return EXIT_OK
        if len(cases) < MIN_CALIBRATION_REPORTS:
            print(
                f"transcribe: {len(cases)} validated reports are too few to calibrate on (at least "
                f"{MIN_CALIBRATION_REPORTS}); the rule in use is kept",
                file=sys.stderr,
            )
            return EXIT_USAGE
        path = settings.paths.audio_rule
        written = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        written[model] = chosen.to_json()
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, (json.dumps(written, ensure_ascii=False, indent=2) + "\n").encode())
        cli_audit(settings, store).trail.record(
            cli_audit(settings, store).actor, "audio-rule-calibrated", None, f"{model}: {len(cases)} reports"
        )
        print(f"written to {path}: used from the next dictation (a running service reads it for each dictation)")
    return EXIT_OK


def _rerun(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.learning.rerun import choose_jobs, rerun
    from transcribe.patient_record.patients import parse_date

    day = parse_date(args.since)
    if day is None:
        print(f"transcribe: --since {args.since} is not a date (YYYY-MM-DD)", file=sys.stderr)
        return EXIT_USAGE
    since = datetime(day.year, day.month, day.day, tzinfo=UTC)
    with open_site_store(loaded) as store:
        choice = choose_jobs(store, since, author=args.author, include_started=args.include_started)
        for job, why in choice.left:
            print(f"job {job.id}: left as it is ({why}; --include-started to run it again)")
        if args.dry_run:
            print(
                f"{len(choice.again)} dictations would be transcribed again: {', '.join(str(j.id) for j in choice.again)}"
            )
            return EXIT_OK
        audit = cli_audit(loaded.settings, store)
        queued = rerun(loaded.settings, store, choice.again, os.environ.get("USER"), f"rerun since {args.since}", audit)
    print(
        f"{len(queued)} dictations queued again (earlier drafts kept in drafts/<job>/previous-N/); "
        "'transcribe serve' or 'transcribe batch' transcribes them"
    )
    return EXIT_OK
