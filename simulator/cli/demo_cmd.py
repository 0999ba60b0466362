"""`aplus-sim demo`: the simulator, the reference wallet and the merchant page, with one command.

The simulator runs as `aplus-sim serve` and the wallet as `python -m mpp_reference`, each its own
process (the two packages never import each other). Readiness is checked by polling their health
endpoints; then the wallet is registered as the simulator's default MPP (keys exchanged both
ways). Ctrl-C stops both.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import requests

EXAMPLES = """examples:
  aplus-sim demo                                  # simulator :8360, wallet :8361
  aplus-sim demo --sim-port 0 --wallet-port 0     # any free ports
  aplus-sim demo --clock virtual --data-dir /tmp/demo

Open the merchant page it prints first, pick an amount and a currency, and pay at the wallet's
cashier. Logs of both servers go to DATA_DIR/simulator.log and DATA_DIR/wallet.log.
"""

SERVE_SIMULATOR = "import sys; from simulator.cli import main; sys.exit(main(sys.argv[1:]))"
DEFAULT_CLIENT_ID = "SANDBOX_APLUS_SIM_MPP_01"
WALLET_PATHS = {
    "cashierUrl": "/cashier",
    "inquiryPaymentUrl": "/aps/api/v1/payments/inquiryPayment",
    "cancelPaymentUrl": "/aps/api/v1/payments/cancelPayment",
    "refundUrl": "/aps/api/v1/payments/refund",
}


class DemoError(RuntimeError):
    """The pair could not be started."""


@dataclass
class Process:
    """A child server and its log file."""

    name: str
    popen: subprocess.Popen
    log: Path

    def tail(self, lines: int = 15) -> str:
        """The end of its log."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def register(subparsers: Any) -> None:
    """Add the `demo` subcommand."""
    demo = subparsers.add_parser(
        "demo",
        help="run the simulator, the reference wallet and the merchant demo page",
        description="Start the simulator and the reference wallet (registered as its default "
        "MPP, keys exchanged), and print the merchant page URL.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--host", default="127.0.0.1", help="address both servers listen on")
    demo.add_argument("--sim-port", type=int, default=8360, help="simulator port (0: any)")
    demo.add_argument("--wallet-port", type=int, default=8361, help="wallet port (0: any)")
    demo.add_argument("--data-dir", default=".aplus-sim", help="databases, keys and logs")
    demo.add_argument("--clock", choices=("real", "virtual"), default="real")
    demo.add_argument("--client-id", default=DEFAULT_CLIENT_ID, help="the wallet's Client-Id")
    demo.add_argument("--currency", default="KRW", help="the wallet currency")
    demo.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for start-up")
    demo.set_defaults(func=run)


def _free_port(host: str) -> int:
    from simulator.serving import free_port

    return free_port(host)


def _check_free(host: str, port: int, what: str) -> None:
    """Fail early when a port is taken (else an old server could answer our health checks).
    The check sets SO_REUSEADDR, as the servers do: a port in TIME_WAIT after a stop is free."""
    from simulator.serving import port_problem

    problem = port_problem(host, port)
    if problem:
        raise DemoError(
            f"{what} port {port} on {host} is in use ({problem}); stop the other "
            f"server or choose another port (0 picks a free one)"
        )


def _die_with_parent(parent: int) -> Callable[[], None]:
    """A preexec_fn: the child gets SIGTERM when the demo process dies, even by SIGKILL
    (Linux PR_SET_PDEATHSIG through prctl); elsewhere a no-op."""

    try:  # loaded here, in the parent: nothing is imported between fork and exec
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)

    def arm() -> None:
        # An ignored SIGINT is inherited across exec: give the servers back the default, so
        # the SIGINT that stop() sends ends them even when the demo was started with `cmd &`.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the demo died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return arm


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _start(name: str, argv: list[str], log: Path) -> Process:
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("ab")
    popen = subprocess.Popen(
        argv,
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C reaches us; we stop the children ourselves
        preexec_fn=_die_with_parent(os.getpid()),  # ... and they die with us if we are killed
    )
    handle.close()
    return Process(name, popen, log)


def wait_ready(
    url: str, process: Process, timeout: float, check: Callable[[dict], bool] | None = None
) -> dict:
    """Poll `url` (a health endpoint) until it answers 200 JSON; fail early if the child dies."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise DemoError(
                f"the {process.name} exited with code {process.popen.returncode} during start-up; "
                f"last lines of {process.log}:\n{process.tail()}"
            )
        try:
            answer = requests.get(url, timeout=2)
            if answer.status_code == 200:
                body = answer.json()
                if check is None or check(body):
                    return body
            last = f"HTTP {answer.status_code}"
        except (requests.RequestException, ValueError) as exc:
            last = type(exc).__name__
        time.sleep(0.1)  # polling interval of a readiness check, not a wait for behaviour
    raise DemoError(f"the {process.name} did not become ready at {url} ({last}); see {process.log}")


def stop(processes: list[Process], grace: float = 10.0) -> None:
    """Ask every child to stop (SIGINT, then SIGTERM, then SIGKILL), newest first."""
    for process in reversed(processes):
        if process.popen.poll() is None:
            try:
                os.killpg(process.popen.pid, signal.SIGINT)
            except ProcessLookupError:
                continue
    for process in reversed(processes):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                process.popen.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.popen.pid, sig)
                except ProcessLookupError:
                    break


def start_pair(args: argparse.Namespace, out: TextIO) -> tuple[list[Process], dict[str, str]]:
    """Start both servers, exchange keys; returns the processes and the URLs."""
    data_dir = Path(args.data_dir).resolve()
    host = args.host
    sim_port = args.sim_port or _free_port(host)
    wallet_port = args.wallet_port or _free_port(host)
    _check_free(host, sim_port, "the simulator's")
    _check_free(host, wallet_port, "the wallet's")
    sim_url, wallet_url = _url(host, sim_port), _url(host, wallet_port)
    processes: list[Process] = []
    try:
        simulator = _start(
            "simulator",
            [
                sys.executable,
                "-c",
                SERVE_SIMULATOR,
                "serve",
                "--host",
                host,
                "--port",
                str(sim_port),
                "--data-dir",
                str(data_dir / "simulator"),
                "--clock",
                args.clock,
                "--base-url",
                sim_url,
                "--wallet-url",
                wallet_url,
                "--client-id",
                args.client_id,
            ],
            data_dir / "simulator.log",
        )
        processes.append(simulator)
        wait_ready(f"{sim_url}/_sim/health", simulator, args.timeout)
        sim_key = requests.get(f"{sim_url}/_sim/keys", timeout=5).json()["publicKey"]

        wallet = _start(
            "wallet",
            [
                sys.executable,
                "-m",
                "mpp_reference",
                "--host",
                host,
                "--port",
                str(wallet_port),
                "--data-dir",
                str(data_dir / "wallet"),
                "--alipay-url",
                sim_url,
                "--alipay-public-key",
                sim_key,
                "--public-url",
                wallet_url,
                "--client-id",
                args.client_id,
                "--currency",
                args.currency,
                *(["--clock-url", f"{sim_url}/_sim/clock"] if args.clock == "virtual" else []),
            ],
            data_dir / "wallet.log",
        )
        processes.append(wallet)
        health = wait_ready(f"{wallet_url}/_mpp/health", wallet, args.timeout)

        registration = {name: wallet_url + path for name, path in WALLET_PATHS.items()}
        registration.update(
            publicKey=health["publicKey"],
            walletCurrency=health["walletCurrency"],
            signatureMode="strict",
        )
        answer = requests.put(
            f"{sim_url}/_sim/participants/{args.client_id}", json=registration, timeout=10
        )
        if answer.status_code != 200:
            raise DemoError(
                f"registering the wallet failed: HTTP {answer.status_code} {answer.text}"
            )
    except BaseException:
        stop(processes)
        raise
    urls = {"merchant": f"{sim_url}/merchant/", "simulator": sim_url, "wallet": wallet_url}
    return processes, urls


def _terminate(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Start the pair, print the URLs (merchant page first), and wait for Ctrl-C."""
    out = out or sys.stdout
    # Both handled explicitly, before anything starts (a signal right after the URLs are
    # printed must not be lost): a demo started with SIGINT ignored (`cmd &` in a script)
    # still stops on Ctrl-C / kill -INT, and SIGTERM stops it the same way.
    previous = {sig: signal.signal(sig, _terminate) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _run(args, out)
    except KeyboardInterrupt:  # during start-up: start_pair has stopped what it started
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(args: argparse.Namespace, out: TextIO) -> int:
    try:
        processes, urls = start_pair(args, out)
    except DemoError as exc:
        print(f"aplus-sim demo: {exc}", file=sys.stderr)
        return 1
    try:
        data_dir = Path(args.data_dir).resolve()
        out.write(
            f"Merchant page:  {urls['merchant']}\n"
            f"  open it, pick an amount and a currency, and pay at the wallet's cashier\n"
            f"Wallet:         {urls['wallet']}/  (users, balances, /scan)\n"
            f"Simulator:      {urls['simulator']}/_sim/ui  (dashboard, journal)\n"
            f"Clock:          {args.clock}   Client-Id: {args.client_id}   Data: {data_dir}\n"
            f"Logs:           {data_dir / 'simulator.log'}, {data_dir / 'wallet.log'}\n"
            "Press Ctrl-C to stop both.\n"
        )
        out.flush()
        while all(p.popen.poll() is None for p in processes):
            with contextlib.suppress(subprocess.TimeoutExpired):
                processes[0].popen.wait(timeout=0.5)
        dead = next(p for p in processes if p.popen.poll() is not None)
        print(
            f"aplus-sim demo: the {dead.name} stopped (code {dead.popen.returncode}); "
            f"last lines of {dead.log}:\n{dead.tail()}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        out.write("Stopping…\n")
        return 0
    finally:
        stop(processes)
