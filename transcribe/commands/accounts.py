"""Who uses the review app and what they did: ``user add``, ``user list``, ``audit verify``, ``audit show``,
``audit accept-unkeyed``."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from transcribe.commands import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    Commands,
    cli_actor,
    cli_audit,
    open_job_store,
    open_site_store,
)
from transcribe.security.accounts import ROLES
from transcribe.settings_loading import LoadedSettings


def register(commands: Commands) -> None:
    """Add the commands for the review app's accounts and audit trail: user, audit."""
    user = commands.add_parser("user", help="accounts of the review app")
    user_commands = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    user_add = user_commands.add_parser("add", help="create an account (the first admin, or anyone)")
    user_add.add_argument("username")
    user_add.add_argument("--role", choices=ROLES, default="secretary")
    user_add.add_argument("--author", help="for a doctor: the inbox folder name of his dictations")
    user_add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    user_add.set_defaults(handler=_user_add)
    user_list = user_commands.add_parser("list", help="list the accounts")
    user_list.set_defaults(handler=_user_list)

    audit = commands.add_parser("audit", help="the audit trail of the review app")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    audit_verify = audit_commands.add_parser(
        "verify", help="check the keyed audit chain and its anchor: exit 1 if it was tampered with"
    )
    audit_verify.set_defaults(handler=_audit_verify)
    audit_show = audit_commands.add_parser("show", help="the newest entries")
    audit_show.add_argument("--job", type=int)
    audit_show.set_defaults(handler=_audit_show)
    audit_accept = audit_commands.add_parser(
        "accept-unkeyed",
        help="accept the entries written before the chain was keyed, once checked against a backup of the database",
    )
    audit_accept.set_defaults(handler=_audit_accept_unkeyed)


def _user_add(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    import getpass

    from transcribe.security.accounts import Accounts

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("transcribe: the two passwords differ", file=sys.stderr)
            return EXIT_USAGE
    with open_job_store(loaded.settings) as store:
        audit = cli_audit(loaded.settings, store)
        user = Accounts(store).add_user(args.username, password, args.role, author=args.author, audit=audit)
    print(f"user {user.username} ({user.role}) created")
    return EXIT_OK


def _user_list(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.security.accounts import Accounts

    with open_site_store(loaded) as store:
        for user in Accounts(store).list_users():
            print(f"{user.username:<20} {user.role:<10} {user.author or ''}")
    return EXIT_OK


def _audit_verify(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.security.audit import AuditTrail

    key = loaded.settings.paths.site_key
    had_key = key.is_file()
    with open_site_store(loaded) as store:
        trail = AuditTrail.of_site(store, loaded.settings)
        check = trail.verify()
    if not had_key:
        print(
            f"transcribe: there was no site key at {key}; a new one was made, so entries keyed before cannot be "
            "checked: restore the site's key from its backup",
            file=sys.stderr,
        )
    if check.intact:
        print(
            f"audit trail intact: {check.entries} entries; the anchor ({trail.anchor.path}) vouches for {check.anchored}"
        )
        if check.unkeyed:
            print(
                f"entries 1 to {check.unkeyed} were written before the chain was keyed, and accepted by "
                f"{check.unkeyed_accepted_by}: they are checked only from then on"
            )
        return EXIT_OK
    if check.waiting_acceptance:
        print(f"transcribe: audit trail NOT VERIFIED ({check.entries} entries): {check.reason}", file=sys.stderr)
        return EXIT_FAILED
    where = f"at entry {check.first_broken}" if check.first_broken is not None else f"({check.entries} entries)"
    print(f"transcribe: audit trail BROKEN {where}: {check.reason}", file=sys.stderr)
    return EXIT_FAILED


def _audit_show(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.security.audit import AuditTrail

    with open_site_store(loaded) as store:
        for entry in AuditTrail.of_site(store, loaded.settings).entries(job_id=args.job):
            at = datetime.fromtimestamp(entry.at).strftime("%Y-%m-%d %H:%M:%S")
            job = f"job {entry.job_id}" if entry.job_id else ""
            number = f"#{entry.seq}" if entry.seq is not None else "#?"
            print(f"{number:>6} {at}  {entry.username or '-':<14} {entry.action:<18} {job} {entry.detail or ''}")
    return EXIT_OK


def _audit_accept_unkeyed(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from transcribe.security.audit import AuditTrail

    with open_site_store(loaded) as store:
        accepted = AuditTrail.of_site(store, loaded.settings).accept_unkeyed(cli_actor())
    print(f"entries 1 to {accepted} accepted by {cli_actor()}; 'transcribe audit verify' now checks the whole chain")
    return EXIT_OK
