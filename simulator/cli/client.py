"""How every client command finds the simulator and talks to it (over HTTP only).

Resolution order of the simulator's address: `--sim URL` > `APLUS_SIM_URL` > the address that
`aplus-sim serve` / `demo` recorded in the data dir (`<data-dir>/address.json`) >
`http://127.0.0.1:8360`.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from simulator.serving import ADDRESS_FILE

DEFAULT_URL = "http://127.0.0.1:8360"
DEFAULT_DATA_DIR = ".aplus-sim"


class Unreachable(Exception):
    """The simulator did not answer; the message is the one line a user should read."""


def add_sim_option(parser: argparse.ArgumentParser, dest: str = "sim") -> None:
    """`--sim URL` (and the older spelling `--url`)."""
    parser.add_argument(
        "--sim",
        "--url",
        dest=dest,
        default=None,
        metavar="URL",
        help="the simulator's base URL (default: $APLUS_SIM_URL, else the address recorded "
        f"in the data dir by serve/demo, else {DEFAULT_URL})",
    )


def data_dirs() -> list[Path]:
    """Where serve/demo may have recorded their address: $APLUS_SIM_DATA_DIR or .aplus-sim,
    and the demo's simulator directory inside it."""
    base = Path(os.environ.get("APLUS_SIM_DATA_DIR", DEFAULT_DATA_DIR))
    return [base, base / "simulator"]


def recorded_url(data_dir: Path) -> str | None:
    """The address serve/demo wrote into `data_dir`, if any."""
    try:
        return json.loads((data_dir / ADDRESS_FILE).read_text())["url"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def resolve_url(explicit: str | None, data_dir: str | None = None) -> str:
    """The simulator's base URL by the documented order."""
    if explicit:
        return explicit.rstrip("/")
    env = os.environ.get("APLUS_SIM_URL")
    if env:
        return env.rstrip("/")
    dirs = [Path(data_dir), Path(data_dir) / "simulator"] if data_dir else data_dirs()
    for candidate in dirs:
        url = recorded_url(candidate)
        if url:
            return url.rstrip("/")
    return DEFAULT_URL


def unreachable_message(url: str, exc: BaseException) -> str:
    """One clear line instead of urllib3's internals."""
    text = str(exc)
    if "refused" in text.lower():
        why = "connection refused"
    elif "timed out" in text.lower() or "timeout" in type(exc).__name__.lower():
        why = "timed out"
    elif "resolve" in text.lower() or "name or service" in text.lower():
        why = "unknown host"
    else:
        why = type(exc).__name__
    return (
        f"cannot reach the simulator at {url}: {why}; start it with `aplus-sim serve` "
        "or set APLUS_SIM_URL"
    )


def request(method: str, url: str, timeout: float = 30, **kwargs: Any) -> Any:
    """requests.request, with an unreachable server turned into `Unreachable`."""
    import requests

    try:
        return requests.request(method, url, timeout=timeout, **kwargs)
    except requests.RequestException as exc:
        base = url.split("/_sim", 1)[0].split("/aps/", 1)[0]
        raise Unreachable(unreachable_message(base, exc)) from None
