"""A warm Spark driver for the DAGs' Spark steps (conf `orchestration.spark_steps.mode: runner`).

One long-lived process per omnilake home runs `omnilake <argv>` commands one at a time in its SparkSession, so a
daily run pays the JVM start, the JIT warm-up and the first loads of every Delta log once, not once per step.
At demo size that halves the Spark steps of a day (see the README's "Spark steps" section for the numbers).

Protocol: loopback TCP, one command per connection. The client sends one JSON line {token, identity, argv}; the
runner streams the command's Python output as JSON lines {"out": text} (fd 1) and {"err": text} (fd 2) and ends
with {"exit": code}. `<run_dir>/spark-runner.json` (mode 0600) holds pid, port, token, identity and the log path.

The identity is a hash of the OMNILAKE*/PYSPARK*/SPARK*/JAVA*/MLFLOW* environment, the interpreter and the
modification times of the code and conf files: a client whose identity differs stops that runner and starts its
own, so an edited checkout or another env never runs on a stale driver.

Failures behave as with a spark-submit per step: a client that goes away (Airflow's time-out or a kill) ends the
runner process at once; an exception in a command is its traceback and exit 1; a runner that dies mid-command
closes the connection and the step fails (its retry starts a new runner). Delta commits are atomic, so a killed
runner leaves what a killed spark-submit leaves. The JVM's own stderr goes to the runner's log, not to the step.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

from jobs.common.config import PROJECT_ROOT, Config
from jobs.common.log import event

ENTRY = PROJECT_ROOT / "jobs" / "__main__.py"
ENV_PREFIXES = ("OMNILAKE", "PYSPARK", "SPARK", "JAVA", "MLFLOW")
CODE_DIRS = ("jobs", "ml", "conf")
CODE_SUFFIXES = {".py", ".yaml", ".yml", ".properties"}
EXIT_CLIENT_GONE = 75  # the runner's own exit status when its client disconnected mid-command


class RunnerError(RuntimeError):
    """The runner could not be started or reached, or it died during a command."""


@dataclass(frozen=True)
class RunnerInfo:
    pid: int
    port: int
    token: str
    identity: str
    log: str


def run_dir(cfg: Config) -> Path:
    return Path(cfg.home) / "run"


def info_path(cfg: Config) -> Path:
    return run_dir(cfg) / "spark-runner.json"


def log_path(cfg: Config) -> Path:
    return run_dir(cfg) / "spark-runner.log"


def identity(cfg: Config, environ: Mapping[str, str]) -> str:
    """What a runner must share with a client to run its commands: environment, interpreter, code and conf."""
    digest = hashlib.sha256()
    digest.update(f"home={cfg.home}\0env={cfg.env}\0python={sys.executable}\0".encode())
    for key in sorted(k for k in environ if k.startswith(ENV_PREFIXES) and k != "OMNILAKE_HOME"):
        digest.update(f"{key}={environ[key]}\0".encode())
    for top in CODE_DIRS:
        for path in sorted((PROJECT_ROOT / top).rglob("*")):
            if path.suffix in CODE_SUFFIXES and "__pycache__" not in path.parts:
                digest.update(f"{path}:{path.stat().st_mtime_ns}\0".encode())
    return digest.hexdigest()[:32]


def read_info(cfg: Config) -> RunnerInfo | None:
    try:
        return RunnerInfo(**json.loads(info_path(cfg).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _send(sock: socket.socket, message: Mapping[str, Any]) -> None:
    sock.sendall((json.dumps(message) + "\n").encode())


def _messages(stream: BinaryIO) -> Iterator[dict[str, Any]]:
    for line in stream:
        if line.strip():
            yield json.loads(line)


# ---------------------------------------------------------------------------------------------------- client


@contextlib.contextmanager
def _start_lock(cfg: Config) -> Iterator[None]:
    run_dir(cfg).mkdir(parents=True, exist_ok=True)
    with (run_dir(cfg) / "spark-runner.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def stop_runner(cfg: Config, *, wait_seconds: float = 30.0) -> bool:
    """Stop this home's runner (SIGTERM, then SIGKILL after `wait_seconds`); False when none was running."""
    info = read_info(cfg)
    if info is None or not alive(info.pid):
        with contextlib.suppress(FileNotFoundError):
            info_path(cfg).unlink()
        return False
    os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + wait_seconds
    while alive(info.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if alive(info.pid):
        os.kill(info.pid, signal.SIGKILL)
    with contextlib.suppress(FileNotFoundError):
        info_path(cfg).unlink()
    return True


def ensure_runner(cfg: Config, environ: Mapping[str, str]) -> RunnerInfo:
    """This home's runner for this identity: the running one, or a new one (an old one of another identity is
    stopped first). Serialized by a file lock, so concurrent steps start one runner between them."""
    wanted = identity(cfg, environ)
    with _start_lock(cfg):
        info = read_info(cfg)
        if info is not None and info.identity == wanted and alive(info.pid):
            return info
        if info is not None:
            stop_runner(cfg)
        return _spawn(cfg, environ, wanted)


def _spawn(cfg: Config, environ: Mapping[str, str], wanted: str) -> RunnerInfo:
    settings = cfg.orchestration.spark_steps
    log = log_path(cfg)
    env = {**environ, "OMNILAKE_HOME": cfg.home, "OMNILAKE_ENV": cfg.env}
    env.setdefault("PYSPARK_PYTHON", sys.executable)
    env.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    with log.open("ab") as out:
        child = subprocess.Popen(
            [sys.executable, str(ENTRY), "runner", "--identity", wanted, "serve"],
            env=env,
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives the task that started it; not in the task's process group
        )
    threading.Thread(target=child.wait, daemon=True).start()  # reaped when it ends: no zombie to look alive
    deadline = time.monotonic() + settings.start_timeout_seconds
    while time.monotonic() < deadline:
        info = read_info(cfg)
        if info is not None and info.pid == child.pid:
            event("runner.started", pid=child.pid, port=info.port, log=str(log))
            return info
        if child.poll() is not None:
            raise RunnerError(f"the Spark runner exited with status {child.returncode} at start; log: {log}")
        time.sleep(0.2)
    child.kill()
    raise RunnerError(f"the Spark runner did not start within {settings.start_timeout_seconds:.0f} s; log: {log}")


def run_step(
    cfg: Config,
    argv: Sequence[str],
    *,
    environ: Mapping[str, str] | None = None,
    out: Callable[[str], Any] | None = None,
    err: Callable[[str], Any] | None = None,
) -> int:
    """Run `omnilake <argv>` in this home's warm runner (started when needed); its stdout goes to `out` and its
    stderr to `err` (default: this process's, or `out` when only that is given) as they come. Returns the command's
    exit status."""
    environ = os.environ if environ is None else environ
    streams = {"out": out or _writer(sys.stdout), "err": err or out or _writer(sys.stderr)}
    for attempt in (1, 2):
        info = ensure_runner(cfg, environ)
        try:
            sock = socket.create_connection(("127.0.0.1", info.port), timeout=30)
        except OSError as exc:
            if attempt == 2:
                raise RunnerError(
                    f"cannot reach the Spark runner (pid {info.pid}, port {info.port}); log: {info.log}"
                ) from exc
            stop_runner(cfg)  # a runner that cannot be reached is replaced once
            continue
        with sock, sock.makefile("rb") as stream:
            sock.settimeout(None)
            _send(sock, {"token": info.token, "identity": info.identity, "argv": list(argv)})
            for message in _messages(stream):
                if key := next((k for k in streams if k in message), None):
                    streams[key](message[key])
                elif "exit" in message:
                    return int(message["exit"])
                elif message.get("error") == "identity" and attempt == 1:
                    stop_runner(cfg)
                    break
                else:
                    raise RunnerError(f"Spark runner: {message}")
            else:
                raise RunnerError(
                    f"the Spark runner closed the connection during `omnilake {' '.join(argv)}` without an exit "
                    f"status (it died); log: {info.log}"
                )
    raise RunnerError("the Spark runner kept another identity after a restart")


def _writer(stream: Any) -> Callable[[str], None]:
    def write(text: str) -> None:
        stream.write(text)
        stream.flush()

    return write


# ---------------------------------------------------------------------------------------------------- server


def serve(cfg: Config, wanted: str, run_command: Callable[[list[str]], int]) -> int:
    """The runner's loop: a warm SparkSession, then one command per connection until idle, replaced, told to stop
    or `max_commands` served. Removes its info file on the way out."""
    from jobs.common.spark import build_spark

    settings = cfg.orchestration.spark_steps
    spark = build_spark(cfg)
    spark.range(1).count()  # the first job: executors up, codegen warm, before any client waits on it
    baseline = dict(spark.conf.getAll)
    token = secrets.token_hex(16)
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(1.0)
    info = RunnerInfo(os.getpid(), server.getsockname()[1], token, wanted, str(log_path(cfg)))
    _write_info(cfg, info)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    idle_since, served = time.monotonic(), 0
    try:
        while not stopping.is_set() and served < settings.max_commands:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                if time.monotonic() - idle_since > settings.idle_seconds or read_info(cfg) != info:
                    break
                continue
            with conn:
                request = _read_request(conn)
                if request is None or request.get("token") != token:
                    continue
                if request.get("identity") != wanted:
                    _send(conn, {"error": "identity"})
                    continue
                code = _run_one(conn, [str(a) for a in request["argv"]], run_command)
                _reset(spark, baseline)
                served += 1
                _send(conn, {"exit": code})
            idle_since = time.monotonic()
    finally:
        if read_info(cfg) == info:
            with contextlib.suppress(FileNotFoundError):
                info_path(cfg).unlink()
        server.close()
    spark.stop()
    return 0


def _write_info(cfg: Config, info: RunnerInfo) -> None:
    path = info_path(cfg)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(info), handle)
    os.replace(tmp, path)


def _read_request(conn: socket.socket) -> dict[str, Any] | None:
    conn.settimeout(30)
    try:
        with conn.makefile("rb") as stream:
            line = stream.readline()
        return json.loads(line) if line.strip() else None
    except (OSError, ValueError):
        return None
    finally:
        conn.settimeout(None)


def _run_one(conn: socket.socket, argv: list[str], run_command: Callable[[list[str]], int]) -> int:
    """Run one command with its fds 1 and 2 sent to the client ("out" and "err"); the process ends if the client
    goes away."""
    done = threading.Event()

    def watch() -> None:  # the client sends nothing after its request: a read returns only when it is gone
        with contextlib.suppress(OSError):
            conn.recv(1)
        if not done.is_set():
            os._exit(EXIT_CLIENT_GONE)

    def pump(read_fd: int, key: str) -> None:
        with os.fdopen(read_fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                try:
                    with lock:
                        _send(conn, {key: chunk.decode(errors="replace")})
                except OSError:
                    os._exit(EXIT_CLIENT_GONE)

    lock = threading.Lock()
    threading.Thread(target=watch, daemon=True).start()
    sys.stdout.flush()
    sys.stderr.flush()
    saved, pumps = [], []
    for fd, key in ((1, "out"), (2, "err")):
        read_fd, write_fd = os.pipe()
        pumps.append(threading.Thread(target=pump, args=(read_fd, key), daemon=True))
        pumps[-1].start()
        saved.append(os.dup(fd))
        os.dup2(write_fd, fd)
        os.close(write_fd)
    try:
        code = run_command(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - a command's crash is its exit status, the runner goes on
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, old in zip((1, 2), saved, strict=True):
            os.dup2(old, fd)
            os.close(old)
        for thread in pumps:
            thread.join()
        done.set()
    return code


def _reset(spark: Any, baseline: Mapping[str, str]) -> None:
    """What one command may leave behind for the next: cached frames, session settings, an open MLflow run."""
    spark.catalog.clearCache()
    for key, value in dict(spark.conf.getAll).items():
        if baseline.get(key) != value:
            with contextlib.suppress(Exception):  # a static setting cannot change, so it never differs
                spark.conf.unset(key) if key not in baseline else spark.conf.set(key, baseline[key])
    if "mlflow" in sys.modules:
        sys.modules["mlflow"].end_run()
