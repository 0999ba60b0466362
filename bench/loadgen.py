"""Load generators for bench/compare.py: wrk with a Lua script of prepared requests, else a
bounded Python client (threads, one requests.Session each); and the cashier-flow client.

Every run is bounded in time (`seconds`) and, for requests sent once, in count.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
LUA = HERE / "wrk_requests.lua"


@dataclass(frozen=True)
class Prepared:
    """One ready-to-send request (signed beforehand when it needs a signature)."""

    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    """What one load run measured."""

    good: int
    other: int
    seconds: float
    p50_ms: float
    p99_ms: float
    note: str = ""

    @property
    def rate(self) -> float:
        """Good answers per second."""
        return self.good / self.seconds if self.seconds else 0.0


def wrk_path() -> str | None:
    """wrk on PATH, if installed."""
    return shutil.which("wrk")


def _lua_string(data: bytes | str) -> str:
    text = data.decode() if isinstance(data, bytes) else data
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def _lua_requests(prepared: list[Prepared]) -> str:
    rows = []
    for item in prepared:
        headers = ", ".join(
            f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in item.headers.items()
        )
        rows.append(
            f"{{method = {_lua_string(item.method)}, path = {_lua_string(item.path)}, "
            f"headers = {{{headers}}}, body = {_lua_string(item.body)}}}"
        )
    return "return {\n" + ",\n".join(rows) + "\n}\n"


def run_wrk(
    base: str,
    prepared: list[Prepared],
    *,
    once: bool,
    seconds: float,
    threads: int = 2,
    connections: int = 16,
    expect_s: bool = True,
) -> Result:
    """Send `prepared` with wrk (round and round, or each once); the measured figures."""
    with tempfile.TemporaryDirectory(prefix="aplus-bench-wrk-") as tmp:
        data = Path(tmp) / "requests.lua"
        data.write_text(_lua_requests(prepared))
        command = [
            wrk_path() or "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            base,
            "--",
            str(data),
            str(threads),
            "once" if once else "repeat",
            "S" if expect_s else "2xx",
        ]
        out = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures: {out.stdout[-500:]} {out.stderr[-500:]}")
    figures = json.loads(line.removeprefix("WRK_JSON "))
    note = "ran out of prepared requests" if figures["exhausted"] else ""
    if figures["socket_errors"]:
        note = f"{figures['socket_errors']} socket errors {note}".strip()
    return Result(
        figures["good"],
        figures["other"],
        figures["duration_us"] / 1e6,
        figures["p50_ms"],
        figures["p99_ms"],
        note,
    )


def _threads(
    count: int, seconds: float, limit: int, one: Callable[[requests.Session, int], bool]
) -> Result:
    """Run `one(session, index)` from `count` threads until time or `limit` runs out."""
    lock = threading.Lock()
    state = {"next": 0, "good": 0, "other": 0}
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        mine: list[float] = []
        good = other = 0
        with requests.Session() as session:
            while time.perf_counter() < deadline:
                with lock:
                    index = state["next"]
                    if index >= limit:
                        break
                    state["next"] += 1
                started = time.perf_counter()
                try:
                    ok = one(session, index)
                except requests.RequestException:
                    ok = False
                mine.append(time.perf_counter() - started)
                good, other = (good + 1, other) if ok else (good, other + 1)
        with lock:
            latencies.extend(mine)
            state["good"] += good
            state["other"] += other

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, daemon=True) for _ in range(count)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(seconds + 60)
    elapsed = time.perf_counter() - started
    latencies.sort()
    p50 = statistics.median(latencies) * 1000 if latencies else 0.0
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000 if latencies else 0.0
    note = "ran out of prepared requests" if state["next"] >= limit else ""
    return Result(state["good"], state["other"], elapsed, p50, p99, note)


def good_answer(response: requests.Response, expect_s: bool) -> bool:
    """An S result (Alipay+ targets) or any 2xx (the others)."""
    if not expect_s:
        return 200 <= response.status_code < 300
    return response.status_code == 200 and b'"resultStatus":"S"' in response.content


def run_python(
    base: str,
    prepared: list[Prepared],
    *,
    once: bool,
    seconds: float,
    connections: int = 16,
    expect_s: bool = True,
) -> Result:
    """The same as run_wrk with Python threads (slower: the client shares the CPU's GIL)."""

    def one(session: requests.Session, index: int) -> bool:
        item = prepared[index % len(prepared)]
        response = session.request(
            item.method, base + item.path, data=item.body, headers=item.headers, timeout=10
        )
        return good_answer(response, expect_s)

    limit = len(prepared) if once else 10**9
    return _threads(connections, seconds, limit, one)


def run_flows(
    flow: Callable[[requests.Session, int], bool], *, seconds: float, connections: int = 16
) -> Result:
    """Run whole flows (each a few dependent requests) from `connections` threads; flows/s."""
    return _threads(connections, seconds, 10**9, flow)
