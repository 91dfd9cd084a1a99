"""The soak's faults that are not kills: a PostgreSQL server of its own to restart, a drafts disk to fill,
an outbox to make read-only. Used by bench/soak.py and tests/test_soak.py.

Mounting needs root (as on the project's test machines); without it the drafts disk is not made
full and the outbox is made read-only with ``chmod 0555`` only (which stops a service not run as
root), and the soak's report says so.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

DRAFTS_DISK_MIB = 128


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_bin() -> Path:
    """The folder of the PostgreSQL server programs (Debian keeps them out of PATH)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("PostgreSQL server programs (initdb, pg_ctl) not found: apt-get install postgresql")
    return Path(initdb).parent


@dataclass
class PrivatePostgres:
    """A PostgreSQL server in a folder of its own, on a free loopback port: restarting it disturbs nobody."""

    folder: Path
    port: int
    bin: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/soak"

    @classmethod
    def start(cls, folder: Path) -> PrivatePostgres:
        """initdb, start, and create the ``soak`` database."""
        server = cls(folder, free_port(), postgres_bin())
        if os.geteuid() == 0:  # initdb refuses root: the server runs as the postgres user
            shutil.chown(folder, "postgres", "postgres")
        server._run("initdb", "-D", str(folder / "data"), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        server._pg_ctl("start")
        server._run("createdb", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "soak")
        return server

    def restart(self, down_s: float) -> None:
        """Stop the server (fast: sessions are cut), leave it down ``down_s``, start it again."""
        self.halt()
        time.sleep(down_s)
        self.resume()

    def halt(self) -> None:
        """Stop the server, cutting its sessions (``pg_ctl stop -m fast``); its data stays."""
        self._pg_ctl("stop", "-m", "fast")

    def resume(self) -> None:
        """Start the halted server again on the same port."""
        self._pg_ctl("start")

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        try:
            self._pg_ctl("stop", "-m", "immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.folder / "data"),
            "-l",
            str(self.folder / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            action,
            *extra,
        )

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120, cwd=self.folder)


class FaultFolders:
    """The drafts folder on a small tmpfs (to fill) and the outbox bind-mounted on itself (to remount read-only)."""

    def __init__(self, site: Path) -> None:
        self.site = site
        self.mounted: list[Path] = []
        self.drafts: Path | None = None
        self.outbox: Path | None = None
        self.can_mount = os.geteuid() == 0 and shutil.which("mount") is not None

    def prepare(self, drafts: Path, outbox: Path, *, drafts_disk: bool) -> None:
        """Create both folders, and mount them where this process may."""
        for folder in (drafts, outbox):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.can_mount:
            self.outbox = outbox
            return
        if drafts_disk and self._mount("-t", "tmpfs", "-o", f"size={DRAFTS_DISK_MIB}m,mode=0700", "tmpfs", str(drafts)):
            self.drafts = drafts
        if self._mount("--bind", str(outbox), str(outbox)):
            self.outbox = outbox

    def _mount(self, *args: str) -> bool:
        done = subprocess.run(["mount", *args], capture_output=True, timeout=30)
        if done.returncode == 0:
            self.mounted.append(Path(args[-1]))
        return done.returncode == 0

    def fill_drafts(self, hold_s: float) -> str | None:
        """Fill the drafts disk to the last byte for ``hold_s``; None where it is not a disk of its own."""
        if self.drafts is None:
            return None
        filler = self.drafts / ".soak-filler"
        chunk = b"\0" * (1 << 20)
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for size in (1 << 20, 4096, 1):  # unbuffered, down to the last byte
                try:
                    while os.write(fd, chunk[:size]):
                        pass
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
        finally:
            os.close(fd)
        try:
            time.sleep(hold_s)
        finally:
            filler.unlink()
        return f"a {DRAFTS_DISK_MIB} MiB tmpfs filled"

    def outbox_read_only(self, hold_s: float) -> str:
        """Make the outbox read-only for ``hold_s``, then writable again; how it was done."""
        assert self.outbox is not None
        if self.outbox in self.mounted:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(self.outbox)], check=True, timeout=30)
            try:
                time.sleep(hold_s)
            finally:
                subprocess.run(["mount", "-o", "remount,bind,rw", str(self.outbox)], check=True, timeout=30)
            return "bind mount remounted read-only"
        self.outbox.chmod(0o555)
        try:
            time.sleep(hold_s)
        finally:
            self.outbox.chmod(0o700)
        return "chmod 0555" + (" (no effect on root: not a real fault here)" if os.geteuid() == 0 else "")

    def restore(self, keep_drafts: Path | None = None) -> None:
        """Unmount what was mounted (the drafts are copied to ``keep_drafts`` first, when given)."""
        if self.drafts is not None and keep_drafts is not None:
            shutil.copytree(self.drafts, keep_drafts, dirs_exist_ok=True)
        for folder in reversed(self.mounted):
            subprocess.run(["umount", str(folder)], capture_output=True, timeout=30)
        self.mounted.clear()
