"""A throwaway PostgreSQL server for the tests and benchmarks: Debian's `postgresql` package
(tools/install-system-deps.sh installs it for `make test`), a cluster made by
initdb in a temporary folder, listening on 127.0.0.1 only on a free port, and
stopped by the process id this module started.

initdb and postgres refuse to run as root; as root (CI containers) they run as
the `postgres` account the Debian package creates, over a folder it owns.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

START_TIMEOUT_S = 60
INSTALL_HINT = ("PostgreSQL's server binaries are missing: `make test` installs Debian's "
                "`postgresql` package (tools/install-system-deps.sh test)")


def server_bindir() -> Path:
    """The newest /usr/lib/postgresql/<major>/bin that has initdb and postgres."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                        key=lambda p: int(p.parent.parent.name)
                        if p.parent.parent.name.isdigit() else -1)
    if not candidates:
        raise RuntimeError(INSTALL_HINT)
    return candidates[-1].parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One cluster; `url(dbname)` gives SQLAlchemy URLs of databases made in it."""

    def __init__(self):
        # Its own folder under the system's temporary directory (not one inside a
        # caller's private folder: as root, the server runs as `postgres`).
        self.folder = Path(tempfile.mkdtemp(prefix="openheg-postgres-"))
        self.bindir = server_bindir()
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self._log = None
        # As root, the server's programs run as `postgres` (exec'd directly, so the
        # process id this module holds is the server's own).
        self._as_user: dict = {}
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            self._as_user = {"user": account.pw_uid, "group": account.pw_gid,
                             "extra_groups": []}
            os.chown(self.folder, account.pw_uid, account.pw_gid)

    def _run(self, *args: str) -> None:
        result = subprocess.run(list(args), capture_output=True, text=True, cwd=self.folder,
                                **self._as_user)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stderr.strip()[-2000:]}")

    def start(self) -> PostgresServer:
        data = self.folder / "data"
        self._run(str(self.bindir / "initdb"), "--no-sync", "--auth=trust", "--username=openheg",
                  "--encoding=UTF8", "-D", str(data))
        self._log = open(self.folder / "server.log", "wb")  # noqa: SIM115 - closed by stop()
        # No Unix socket (-k ''): loopback TCP only, nothing outside the machine.
        self.process = subprocess.Popen(
            [str(self.bindir / "postgres"), "-D", str(data), "-h", "127.0.0.1",
             "-p", str(self.port), "-k", "", "-c", "fsync=off", "-c", "max_connections=100"],
            stdout=self._log, stderr=subprocess.STDOUT, cwd=self.folder, **self._as_user)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log_text = (self.folder / "server.log").read_text()
                self.stop()
                raise RuntimeError(f"postgres exited: {log_text}")
            ready = subprocess.run([str(self.bindir / "pg_isready"), "-q", "-h", "127.0.0.1",
                                    "-p", str(self.port)])
            if ready.returncode == 0:
                return self
            time.sleep(0.2)
        log_text = (self.folder / "server.log").read_text()
        self.stop()
        raise RuntimeError(f"{log_text}\npostgres did not accept connections in {START_TIMEOUT_S} s")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="openheg",
                             dbname="postgres", autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://openheg@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        """Stops the server this object started (by its process id) and removes
        its folder."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)  # postgres's "fast shutdown"
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        self._log.close()
        shutil.rmtree(self.folder, ignore_errors=True)
