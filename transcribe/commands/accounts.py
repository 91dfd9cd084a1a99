"""Who uses the review app and what they did: ``user add``, ``user list``, ``audit verify``, ``audit show``."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import cast

from ..settings_loading import LoadedSettings
from . import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Commands, open_job_store, open_site_store


def register(commands: Commands) -> None:
    """Add the commands for the review app's accounts and audit trail: user, audit."""
    user = commands.add_parser("user", help="accounts of the review app")
    user_commands = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    user_add = user_commands.add_parser("add", help="create an account (the first admin, or anyone)")
    user_add.add_argument("username")
    user_add.add_argument("--role", choices=["doctor", "secretary", "admin"], default="secretary")
    user_add.add_argument("--author", help="for a doctor: the inbox folder name of his dictations")
    user_add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    user_add.set_defaults(handler=_user_add)
    user_list = user_commands.add_parser("list", help="list the accounts")
    user_list.set_defaults(handler=_user_list)

    audit = commands.add_parser("audit", help="the audit trail of the review app")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    audit_verify = audit_commands.add_parser("verify", help="check that the chained audit trail was not tampered with")
    audit_verify.set_defaults(handler=_audit_verify)
    audit_show = audit_commands.add_parser("show", help="the newest entries")
    audit_show.add_argument("--job", type=int)
    audit_show.set_defaults(handler=_audit_show)


def _user_add(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    import getpass

    from ..accounts import Accounts
    from ..audit import AuditTrail

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("transcribe: the two passwords differ", file=sys.stderr)
            return EXIT_USAGE
    store = open_job_store(loaded.settings)
    try:
        user = Accounts(store).add_user(args.username, password, args.role, author=args.author)
        AuditTrail(store).record(None, "user-added", None, f"{user.username} ({user.role}) from the command line")
    finally:
        store.close()
    print(f"user {user.username} ({user.role}) created")
    return EXIT_OK


def _user_list(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from ..accounts import Accounts

    store = open_site_store(loaded)
    try:
        for user in Accounts(store).list_users():
            print(f"{user.username:<20} {user.role:<10} {user.author or ''}")
    finally:
        store.close()
    return EXIT_OK


def _audit_verify(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from ..audit import AuditTrail

    store = open_site_store(loaded)
    try:
        check = AuditTrail(store).verify()
    finally:
        store.close()
    if check.intact:
        print(f"audit trail intact: {check.entries} entries")
        return EXIT_OK
    print(f"transcribe: audit trail BROKEN at entry {check.first_broken}: {check.reason}", file=sys.stderr)
    return EXIT_FAILED


def _audit_show(args: argparse.Namespace, loaded: LoadedSettings) -> int:
    from ..audit import AuditTrail

    store = open_site_store(loaded)
    try:
        for entry in AuditTrail(store).entries(job_id=args.job):
            at = datetime.fromtimestamp(
                cast(float, entry["at"])
            )  # seconds since the epoch.strftime("%Y-%m-%d %H:%M:%S")
            job = f"job {entry['job_id']}" if entry["job_id"] else ""
            print(f"{at}  {entry['username'] or '-':<14} {entry['action']:<18} {job} {entry['detail'] or ''}")
    finally:
        store.close()
    return EXIT_OK
