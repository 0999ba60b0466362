"""`aplus-sim demo` as a newcomer runs it: two real server processes, URL first, Ctrl-C stops both."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import pytest
import requests

DEMO = "import sys; from simulator.cli import main; sys.exit(main(sys.argv[1:]))"


def _popen_demo(tmp_path, **popen):
    argv = ["demo", "--sim-port", "0", "--wallet-port", "0", "--timeout", "60"]
    return subprocess.Popen(
        [sys.executable, "-c", DEMO, *argv, "--data-dir", str(tmp_path / "demo")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


@pytest.fixture
def demo(tmp_path):
    """The demo on free ports; stopped with SIGINT (Ctrl-C) at the end."""
    process = _popen_demo(tmp_path)
    first = process.stdout.readline()  # returns once the pair is ready (or the demo failed)
    try:
        yield process, first
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def test_demo_prints_the_merchant_page_first_and_a_payment_goes_through(demo):
    process, first = demo
    assert first.startswith("Merchant page:"), first + (process.stderr.read() or "")
    merchant = first.split()[-1]
    rest = "".join(process.stdout.readline() for _ in range(4))
    wallet = re.search(r"Wallet:\s+(\S+?)/\s", rest).group(1)
    sim = merchant.rsplit("/merchant", 1)[0]

    # A visitor checks out on the merchant page and is sent to the wallet's cashier.
    session = requests.Session()
    checkout = session.post(
        f"{merchant}checkout",
        data={"amount": "1000", "currency": "JPY", "merchantId": "M001", "scenario": "redirect"},
        allow_redirects=False,
        timeout=30,
    )
    assert checkout.status_code == 303
    cashier = checkout.headers["Location"]
    assert cashier.startswith(f"{wallet}/cashier?codeValue=")

    # The wallet was registered with keys exchanged: a signed decode and notify go through.
    code_value = requests.utils.unquote(cashier.split("codeValue=", 1)[1])
    state = session.post(
        f"{wallet}/_mpp/driver/pay",
        json={"codeValue": code_value, "customerId": "u_10001", "action": "confirm"},
        timeout=30,
    ).json()
    assert state["status"] == "SUCCESS", state
    assert state["notification"]["status"] == "DONE"
    back = session.get(state["redirectUrl"], timeout=30)
    assert "Payment successful" in back.text
    sim_view = requests.get(f"{sim}/_sim/payments/{state['paymentRequestId']}", timeout=30).json()
    assert sim_view["status"] == "SUCCESS"

    # Ctrl-C stops both servers.
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    for url in (f"{sim}/_sim/health", f"{wallet}/_mpp/health"):
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=5)


def test_demo_refuses_a_port_in_use(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                DEMO,
                "demo",
                "--sim-port",
                str(port),
                "--wallet-port",
                "0",
                "--data-dir",
                str(tmp_path / "demo"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"port {port}" in result.stderr and "in use" in result.stderr
    assert result.stdout == ""


def _descendants(pid: int) -> set[int]:
    """Every process below `pid` (Linux /proc)."""
    from pathlib import Path

    found: set[int] = set()
    todo = [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def _alive(pid: int) -> bool:
    from pathlib import Path

    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _start_demo(tmp_path, **popen):
    """A started demo (process, simulator URL, wallet URL)."""
    process = _popen_demo(tmp_path, **popen)
    first = process.stdout.readline()
    assert first.startswith("Merchant page:"), first + process.stderr.read()
    rest = "".join(process.stdout.readline() for _ in range(2))
    sim = first.split()[-1].rsplit("/merchant", 1)[0]
    wallet = re.search(r"Wallet:\s+(\S+?)/\s", rest).group(1)
    return process, sim, wallet


def test_killing_the_demo_takes_its_servers_with_it_and_frees_the_ports(tmp_path):
    import time

    from simulator.serving import port_problem

    process, sim, wallet = _start_demo(tmp_path)
    children = _descendants(process.pid)
    assert len(children) >= 2, children
    process.kill()  # kill -9: no chance to clean up
    process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in children):  # bounded wait for the parent-death signal
        assert time.monotonic() < deadline, [p for p in children if _alive(p)]
        time.sleep(0.05)
    for url in (sim, wallet):
        host, port = url.removeprefix("http://").rsplit(":", 1)
        assert port_problem(host, int(port)) is None, url  # reusable at once (TIME_WAIT is fine)


def test_a_demo_started_with_sigint_ignored_still_stops_on_sigint(tmp_path):
    process, sim, _ = _start_demo(
        tmp_path, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)
    )
    try:
        assert (tmp_path / "demo" / "simulator" / "address.json").exists()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()  # a no-op once it has stopped; its servers die with it otherwise
        process.wait(timeout=30)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{sim}/_sim/health", timeout=5)
    assert not (tmp_path / "demo" / "simulator" / "address.json").exists()
