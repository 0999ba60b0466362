"""The servers bench/compare.py measures, each started on 127.0.0.1 at a free port as a child
in its own process group, and all of them killed (group and all) when the run ends or is
interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
CLI = str(BIN / "aplus-sim")
HOST = "127.0.0.1"


def free_port() -> int:
    """A free loopback port (the server binds it right after)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def answers(url: str) -> int | None:
    """The HTTP status `url` answers with, or None if nothing answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


@dataclass
class Server:
    """A started server: its base URL and its process."""

    name: str
    base: str
    process: subprocess.Popen

    def wait_ready(self, path: str, seconds: float = 90.0, want: int | None = 200) -> float:
        """Poll `path` until it answers (`want`, or any status when None); the moment it did."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            status = answers(self.base + path)
            if status is not None and (want is None or status == want):
                return time.perf_counter()
            time.sleep(0.005)  # polling for readiness, not waiting for behaviour
        raise TimeoutError(f"{self.name} did not answer {path} within {seconds:.0f} s")


class Children:
    """Every child process of the run; `stop_all` ends each one's whole process group."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str, command: list[str], port: int, **kwargs: object) -> Server:
        """Start `command` in a new session (its own process group); output to /dev/null."""
        log = kwargs.pop("log", subprocess.DEVNULL)
        process = subprocess.Popen(
            command, stdout=log, stderr=log, start_new_session=True, **kwargs
        )
        self.processes.append(process)
        return Server(name, f"http://{HOST}:{port}", process)

    def stop(self, process: subprocess.Popen) -> None:
        """SIGTERM the process's group, SIGKILL it if still there after 10 s."""
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError):  # leftovers of an exited leader
            os.killpg(process.pid, signal.SIGKILL)
        if process in self.processes:
            self.processes.remove(process)

    def stop_all(self) -> None:
        """Stop every child still running."""
        for process in list(self.processes):
            self.stop(process)


@contextlib.contextmanager
def children() -> Iterator[Children]:
    """Children that are all stopped at the end, also on Ctrl-C or SIGTERM."""
    kids = Children()

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield kids
    finally:
        signal.signal(signal.SIGTERM, previous)
        kids.stop_all()


def aplus_sim(kids: Children, data_dir: Path, workers: int) -> Server:
    """`aplus-sim serve --workers N` with its own data dir."""
    port = free_port()
    command = [CLI, "serve", "--host", HOST, "--port", str(port), "--data-dir", str(data_dir)]
    return kids.start("aplus-sim", [*command, "--workers", str(workers)], port, cwd=ROOT)


def granian_app(kids: Children, target: str, workers: int, env: dict[str, str]) -> Server:
    """A WSGI app of bench/floor_app.py on granian, as `aplus-sim serve` runs it (4 threads)."""
    port = free_port()
    command = [
        str(BIN / "granian"),
        "--interface",
        "wsgi",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        "4",
        "--no-log",
        target,
    ]
    return kids.start(target, command, port, cwd=HERE, env={**os.environ, **env})


def find_tool(explicit: str | None, name: str) -> str | None:
    """An executable given by path, else `name` on PATH."""
    if explicit:
        path = Path(explicit)
        if path.is_dir():
            for candidate in (path / name, path / "node_modules" / ".bin" / name):
                if candidate.exists():
                    return str(candidate)
            return None
        return str(path) if path.exists() else None
    return shutil.which(name)


def prism(kids: Children, executable: str, openapi: Path) -> Server:
    """`prism mock` of the simulator's OpenAPI document."""
    port = free_port()
    command = [executable, "mock", str(openapi), "--host", HOST, "--port", str(port)]
    command += ["--errors", "false"]
    return kids.start("prism", command, port)


def wiremock(kids: Children, executable: str, root: Path, path: str, body: dict) -> Server:
    """WireMock with one static stub: POST `path` answers `body`."""
    (root / "mappings").mkdir(parents=True, exist_ok=True)
    (root / "__files").mkdir(exist_ok=True)
    stub = {
        "request": {"method": "POST", "url": path},
        "response": {
            "status": 200,
            "headers": {"Content-Type": "application/json; charset=UTF-8"},
            "body": json.dumps(body, separators=(",", ":")),
        },
    }
    (root / "mappings" / "stub.json").write_text(json.dumps(stub))
    port = free_port()
    command = [executable, "--port", str(port), "--bind-address", HOST, "--root-dir", str(root)]
    return kids.start("wiremock", [*command, "--disable-banner"], port)


def moto(kids: Children, executable: str) -> Server:
    """moto_server (for its startup time only)."""
    port = free_port()
    return kids.start("moto_server", [executable, "-H", HOST, "-p", str(port)], port)


# -- startup -----------------------------------------------------------------------------------


def startup_times(kids: Children, data_dir: Path, args: argparse.Namespace) -> dict:
    """Time to first answer (median of `--startup-runs`, after one untimed warm-up start)."""
    figures: dict[str, float | str] = {}
    runs = args.startup_runs

    def median_start(start, path: str, want: int | None) -> float:
        times = []
        for attempt in range(runs + 1):
            started = time.perf_counter()
            server = start()
            answered = server.wait_ready(path, want=want)
            kids.stop(server.process)
            if attempt:  # the first start warms the page cache
                times.append(answered - started)
        return round(statistics.median(times) * 1000, 1)

    figures["aplus-sim serve, first answer (ms)"] = median_start(
        lambda: aplus_sim(kids, data_dir, args.workers), "/_sim/health", 200
    )
    moto = find_tool(args.moto, "moto_server")
    if moto:
        figures["moto_server, first answer (ms)"] = median_start(
            lambda: moto(kids, moto), "/moto-api/", None
        )
    else:
        figures["moto_server, first answer (ms)"] = "not installed"
    helps = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([CLI, "--help"], capture_output=True, check=True)
        helps.append(time.perf_counter() - started)
    figures["aplus-sim --help (ms)"] = round(statistics.median(helps) * 1000, 1)
    return figures
