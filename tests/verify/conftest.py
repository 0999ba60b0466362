"""`aplus-sim demo --clock virtual` on free ports (simulator + reference wallet), for the kit."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
# Until the wallet's hook picks a funded user itself (customerId optional), the kit is given one.
CUSTOMER = "u_10001"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: builds a fresh virtualenv (tens of seconds)")


@dataclass
class Demo:
    """A running demo: the simulator's and the wallet's base URLs and the wallet's Client-Id."""

    sim_url: str
    wallet_url: str
    client_id: str

    @property
    def hook(self) -> str:
        """The reference wallet's test hook."""
        return f"{self.wallet_url}/_mpp/driver/pay"

    def verify_args(self, *extra: str) -> list[str]:
        """`aplus-sim verify` against this demo."""
        return [
            str(BIN / "aplus-sim"), "verify", "--sim", self.sim_url, "--client-id",
            self.client_id, "--hook", self.hook, "--customer-id", CUSTOMER, *extra,
        ]  # fmt: skip


def _read_banner(process: subprocess.Popen, deadline: float) -> dict[str, str]:
    """Read the demo's start-up lines until 'Press Ctrl-C' (or fail with what it printed)."""
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if "Press Ctrl-C" in line:
            text = "".join(seen)
            return {
                "sim": re.search(r"Simulator:\s+(http://\S+?)/_sim/ui", text).group(1),
                "wallet": re.search(r"Wallet:\s+(http://\S+?)/\s", text).group(1),
                "client": re.search(r"Client-Id:\s+(\S+)", text).group(1),
            }
    raise RuntimeError("aplus-sim demo did not start:\n" + "".join(seen))


def stop(process: subprocess.Popen) -> None:
    """Ctrl-C to the demo's process group (it stops both servers), then make sure."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Iterator[Demo]:
    """Simulator (virtual clock) and reference wallet, registered together, on free ports."""
    data = tmp_path_factory.mktemp("demo")
    process = subprocess.Popen(
        [str(BIN / "aplus-sim"), "demo", "--clock", "virtual", "--sim-port", "0",
         "--wallet-port", "0", "--data-dir", str(data)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        banner = _read_banner(process, time.monotonic() + 60)
        yield Demo(banner["sim"], banner["wallet"], banner["client"])
    finally:
        stop(process)
