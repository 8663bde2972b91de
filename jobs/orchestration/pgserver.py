"""A PostgreSQL server of this machine's own for `omnilake publish` (`omnilake postgres up|down|status`, make
postgres-up / postgres-down, and the test suite when no server is configured).

Debian's `postgresql` package (installed by set-up when missing) provides the binaries; the cluster is initdb'd into
conf `serving.postgres.local.dir`, listens on 127.0.0.1 only (port: conf, 0 = a free one, chosen once and kept in
<dir>/port) with scram-sha-256 password authentication, and its socket stays in <dir>. Run as root, every server
command runs as the `postgres` user (initdb refuses root). The password is generated once into conf
`serving.postgres.password_file` (0600, outside git).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jobs.common.config import Config
from jobs.common.errors import UserError
from jobs.common.log import event

SERVER_USER = "postgres"  # Debian's package owns its binaries' data directories as this user


@dataclass(frozen=True)
class LocalServer:
    dir: Path
    port: int
    dsn: str  # without the password
    password: str
    started: bool  # by this call (False: it was already running)


@cache
def bin_dir() -> Path:
    """The directory of initdb and pg_ctl: pg_config's bindir, else the newest /usr/lib/postgresql/<N>/bin (found
    once per process: every server command asks for it)."""
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out and (Path(out) / "initdb").exists():
            return Path(out)
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if versions:
        return versions[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise UserError("no PostgreSQL server binaries (initdb, pg_ctl): run `make setup` (installs Debian's postgresql)")


def _as_server_user(argv: list[str]) -> list[str]:
    """Root runs the server's commands as `postgres`; anybody else as themselves."""
    return ["runuser", "-u", SERVER_USER, "--", *argv] if os.geteuid() == 0 else argv


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_as_server_user(argv), capture_output=True, text=True, check=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _password(cfg: Config) -> str:
    """The local server's password: conf password_file, created once (0600)."""
    path = Path(cfg.serving.postgres.password_file)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(24))
    return path.read_text().strip()


def _chown_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, user=SERVER_USER, group=SERVER_USER)


def _initdb(cfg: Config, data: Path, password: str) -> None:
    local = cfg.serving.postgres.local
    data.mkdir(parents=True, mode=0o700)
    _chown_to_server_user(data)
    # initdb reads the password from a file the server user can read: a temp copy, removed right after
    handle, pwfile = tempfile.mkstemp(prefix="pwfile.", dir=data.parent)
    try:
        with os.fdopen(handle, "w") as out:
            out.write(password)
        _chown_to_server_user(Path(pwfile))
        argv = [str(bin_dir() / "initdb"), "-D", str(data), "-U", local.user, f"--pwfile={pwfile}"]
        done = _run([*argv, "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8", "--no-locale"])
    finally:
        Path(pwfile).unlink(missing_ok=True)
    if done.returncode != 0:
        raise UserError(f"initdb into {data} failed: {done.stderr.strip() or done.stdout.strip()}")


def _running(data: Path) -> bool:
    return data.exists() and _run([str(bin_dir() / "pg_ctl"), "status", "-D", str(data)]).returncode == 0


def _dsn(cfg: Config, port: int) -> str:
    local = cfg.serving.postgres.local
    return f"postgresql://{local.user}@127.0.0.1:{port}/{local.database}"


def up(cfg: Config) -> LocalServer:
    """Start the local server (initdb and create the database the first time); a running one is left as it is."""
    local = cfg.serving.postgres.local
    root = Path(local.dir)
    data, port_file = root / "data", root / "port"
    root.mkdir(parents=True, exist_ok=True)
    _chown_to_server_user(root)  # the socket and the log live here
    password = _password(cfg)
    fresh = not (data / "PG_VERSION").exists()
    if fresh:
        if data.exists():
            shutil.rmtree(data)  # an initdb that died half-way
        _initdb(cfg, data, password)
    if not port_file.exists():
        port_file.write_text(str(local.port or _free_port()))
    port = int(port_file.read_text())
    started = False
    if not _running(data):
        options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={root}"
        log = root / "server.log"
        done = _run(
            [str(bin_dir() / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(data), "-l", str(log), "-o", options]
        )
        if done.returncode != 0:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise UserError(f"PostgreSQL did not start on 127.0.0.1:{port}: {done.stderr.strip()} {tail}".strip())
        started = True
    if fresh:
        _create_database(cfg, port, password)
    event("postgres.up", dir=str(root), port=str(port), started=started)
    return LocalServer(dir=root, port=port, dsn=_dsn(cfg, port), password=password, started=started)


def _create_database(cfg: Config, port: int, password: str) -> None:
    import psycopg

    local = cfg.serving.postgres.local
    with psycopg.connect(
        host="127.0.0.1", port=port, user=local.user, password=password, dbname="postgres", autocommit=True
    ) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (local.database,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{local.database}"')


def down(cfg: Config) -> bool:
    """Stop the local server (fast shutdown); False when none was running. Its data stays for the next `up`."""
    data = Path(cfg.serving.postgres.local.dir) / "data"
    if not _running(data):
        return False
    done = _run([str(bin_dir() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(data)])
    if done.returncode != 0:
        raise UserError(f"pg_ctl stop -D {data} failed: {done.stderr.strip()}")
    event("postgres.down", dir=str(data.parent))
    return True


def status(cfg: Config) -> LocalServer | None:
    """The running local server, or None."""
    root = Path(cfg.serving.postgres.local.dir)
    if not _running(root / "data"):
        return None
    port = int((root / "port").read_text())
    return LocalServer(dir=root, port=port, dsn=_dsn(cfg, port), password=_password(cfg), started=False)
