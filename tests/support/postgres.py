"""A throwaway PostgreSQL server for the store tests: ``initdb`` and ``pg_ctl`` from Debian's
``postgresql`` package, a cluster in a temporary folder on a free port, stopped and removed
at the end of the session.

PostgreSQL refuses to run as root; under root the cluster is made and run as the ``postgres``
user (``runuser``), in a folder that user owns (pytest's ``tmp_path`` is private to root, so
the cluster lives in its own ``tempfile`` folder). Where the binaries, a user to run them as,
or the psycopg driver are missing, the tests that need the server skip and say which.

``FUNNEL_PG_BIN`` points at another folder of server binaries.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PgServer", "server_binaries", "start_server", "why_no_server"]

_CANDIDATES = ("/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin")


def server_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, or None."""
    found = [os.environ.get("FUNNEL_PG_BIN", ""), *_CANDIDATES]
    on_path = shutil.which("pg_ctl")
    if on_path:
        found.append(str(Path(on_path).resolve().parent))
    for folder in found:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def why_no_server() -> str | None:
    """Why no server can be started here, or None when one can."""
    if server_binaries() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's postgresql package"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the psycopg driver is not installed (pip install -e '.[test]')"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no postgres user to run the server as"
        if shutil.which("runuser") is None:
            return "running as root, and runuser is missing to run the server as postgres"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    folder: Path
    port: int
    run_as: list[str]
    pg_ctl: Path

    def database(self) -> str:
        """A new empty database on the server: its SQLAlchemy URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run([*self.run_as, str(self.pg_ctl), "-D", str(self.folder / "data"), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_server() -> PgServer:
    """initdb a cluster in a new temporary folder and start it on a free port (trust auth,
    TCP on 127.0.0.1 only, fsync off: nothing here must survive a crash)."""
    binaries = server_binaries()
    folder = Path(tempfile.mkdtemp(prefix="funnel-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()
    subprocess.run([*run_as, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True, timeout=120)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40"
    subprocess.run([*run_as, str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "server.log"),
                    "-w", "-t", "60", "start"], check=True, capture_output=True, timeout=90)
    return PgServer(folder, port, run_as, binaries / "pg_ctl")
