"""A real PostgreSQL server for a test: Debian's binaries, a throw-away cluster on 127.0.0.1, trust auth.

``make install`` installs Debian's ``postgresql`` (its server programs live in
``/usr/lib/postgresql/<version>/bin``). :class:`PostgresServer` runs ``initdb`` in a temporary folder,
starts the server on a free port of 127.0.0.1 with ``pg_ctl``, creates one database and, on exit,
stops the server and deletes the folder. PostgreSQL refuses to run as root, so as root every
command runs as the ``postgres`` user (``runuser``) in a folder that user owns.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from nnpractice.distributed import free_port

BIN_GLOB = "/usr/lib/postgresql/*/bin"


def server_binaries(pattern: str = BIN_GLOB) -> Path:
    """The newest installed PostgreSQL's bin folder; a clear error (never a skip) if there is none."""
    found = sorted((Path(p) for p in glob.glob(pattern) if (Path(p) / "pg_ctl").exists()),
                   key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    if not found:
        raise RuntimeError(f"no PostgreSQL server in {pattern} (pg_ctl, initdb): `make install` installs Debian's "
                           f"postgresql, or run `apt-get install postgresql`")
    return found[-1]


class PostgresServer:
    """``with PostgresServer() as server:`` a running server; ``server.url`` is SQLAlchemy's URL of its database."""

    def __init__(self, database: str = "optuna"):
        self.database, self.bin = database, server_binaries()
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="nnp-postgres-"))
        self.data, self.log = self.folder / "data", self.folder / "server.log"
        self.as_user: list[str] = []
        if os.geteuid() == 0:                       # PostgreSQL never runs as root: its own user does
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        done = subprocess.run([*self.as_user, *command], capture_output=True, text=True, timeout=120)
        if done.returncode:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}{log}")

    def start(self) -> PostgresServer:
        # --no-sync and fsync=off: a test's cluster need not survive a power cut, and they save seconds
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--no-sync")
        options = f"-h 127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off -c max_connections=100"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                  "-t", "60", "start")
        self._run(str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
                  "-v", "ON_ERROR_STOP=1", "-c", f'CREATE DATABASE "{self.database}"')
        return self

    def running(self) -> bool:
        done = subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "status"],
                              capture_output=True, timeout=30)
        return done.returncode == 0

    def stop(self) -> None:
        """Stop the server (fast shutdown: open connections are closed) and delete its folder."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
