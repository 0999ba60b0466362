"""aplus-sim against the signed floor and other mock servers, side by side in one run (issue 14).

Starts, one after the other on 127.0.0.1 (free ports, children killed at the end and on
Ctrl-C), and loads each for `--seconds`:

- aplus-sim (`aplus-sim serve --workers N`, a temporary data dir): (a) a replayed signed
  userInitiatedPay; (b) first decodes, each request a fresh order (the orders are created
  through /_sim/orders and the requests signed beforehand, so only the decode is timed);
  (c) the whole cashier flow per iteration: POST /_sim/orders, a signed userInitiatedPay and a
  signed notifyPayment (the client signs both; flows per second);
- the signed floor (bench/floor_app.py on granian, same worker count): verifies the request's
  RSA256 signature and signs its answer, nothing else;
- Flask hello-world on granian;
- Prism (`prism mock` of `aplus-sim openapi`) and WireMock (one static stub), when installed
  (`--prism PATH`, `--wiremock PATH`, or on PATH); each missing one is skipped with a reason.

The load generator is wrk with bench/wrk_requests.lua (pre-signed requests) when installed,
else a bounded Python client (threads, requests.Session); the flow always uses the Python
client (it must sign each request as it goes). Then the time to first answer of
`aplus-sim serve` (median of 5 restarts, warm page cache), of moto_server beside it when
installed, and of `aplus-sim --help`.

    .venv/bin/python bench/compare.py [--seconds 8] [--workers 2] [--json]
        [--prism /tmp/bench-node] [--wiremock /tmp/bench-node] [--python-client]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import loadgen  # noqa: E402
import targets  # noqa: E402
from loadgen import Prepared, Result  # noqa: E402

from contracts import signing  # noqa: E402

DECODE = "/aps/api/v1/payments/userInitiatedPay"
NOTIFY = "/aps/api/v1/payments/notifyPayment"
CLIENT_ID = "SANDBOX_APLUS_SIM_MPP_01"
ORDER = {"amount": {"currency": "JPY", "value": "1000"}}


class Bench:
    """One run: the options, the measured rows and the skipped targets."""

    def __init__(self, args: argparse.Namespace, kids: targets.Children, tmp: Path) -> None:
        self.args = args
        self.kids = kids
        self.tmp = tmp
        self.use_wrk = bool(loadgen.wrk_path()) and not args.python_client
        self.rows: list[dict] = []
        self.skipped: list[str] = []
        self.key = None
        self.replay: Prepared | None = None
        self.decoded: dict = {}

    @property
    def loadgen_name(self) -> str:
        """Which load generator measured the request rows."""
        c = self.args.connections
        if self.use_wrk:
            return f"wrk -t{self.args.threads} -c{c} (bench/wrk_requests.lua, pre-signed requests)"
        why = "asked for" if self.args.python_client else "wrk is not installed"
        return f"Python client, {c} threads with a requests.Session each ({why})"

    def load(
        self, base: str, prepared: list[Prepared], *, once: bool, expect_s: bool, seconds: float
    ) -> Result:
        """Run the chosen load generator against `base`."""
        a = self.args
        if self.use_wrk:
            return loadgen.run_wrk(
                base,
                prepared,
                once=once,
                seconds=seconds,
                threads=a.threads,
                connections=a.connections,
                expect_s=expect_s,
            )
        return loadgen.run_python(
            base,
            prepared,
            once=once,
            seconds=seconds,
            connections=a.connections,
            expect_s=expect_s,
        )

    def measure(
        self,
        server: str,
        base: str,
        prepared: list[Prepared],
        *,
        once: bool = False,
        expect_s: bool = True,
        warm_with: Prepared | None = None,
    ) -> None:
        """Warm `base` up for --warmup seconds (replaying `warm_with` or the first request,
        untimed), then load it for --seconds and record the row."""
        if self.args.warmup > 0:
            warm = [warm_with or prepared[0]]
            self.load(base, warm, once=False, expect_s=expect_s, seconds=self.args.warmup)
        result = self.load(base, prepared, once=once, expect_s=expect_s, seconds=self.args.seconds)
        self.record(server, result)

    def record(self, server: str, result: Result, unit: str = "req/s") -> None:
        """Keep one row and say it."""
        row = {
            "server": server,
            "rate": round(result.rate, 1),
            "unit": unit,
            "good": result.good,
            "other": result.other,
            "seconds": round(result.seconds, 2),
            "p50_ms": round(result.p50_ms, 2),
            "p99_ms": round(result.p99_ms, 2),
            "note": "; ".join(
                x
                for x in (result.note, f"{result.other} other answers" if result.other else "")
                if x
            ),
        }
        self.rows.append(row)
        if not self.args.json:
            print(f"  measured {server}: {row['rate']:.0f} {unit} {row['note']}", flush=True)

    def signed(self, path: str, body: dict) -> Prepared:
        """A POST signed as the default MPP."""
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = signing.signed_request_headers(self.key, CLIENT_ID, path, raw, datetime.now(UTC))
        return Prepared("POST", path, raw, headers)

    # -- aplus-sim -------------------------------------------------------------------------------

    def aplus_sim(self, data_dir: Path) -> None:
        """Replay, first decode and the cashier flow against `aplus-sim serve`."""
        server = targets.aplus_sim(self.kids, data_dir, self.args.workers)
        server.wait_ready("/_sim/health")
        pem = (data_dir / "keys" / CLIENT_ID / "private_key.pem").read_text()
        self.key = signing.load_private_key(pem)
        codes = mint_orders(server.base, self.args.orders + 1)
        self.replay = self.signed(DECODE, {"codeValue": codes[0], "customerId": "bench_user"})
        answer = requests.post(
            server.base + DECODE, data=self.replay.body, headers=self.replay.headers, timeout=10
        )
        self.decoded = answer.json()
        if self.decoded["result"]["resultStatus"] != "S":
            raise SystemExit(f"the replayed decode answered {self.decoded['result']}")
        firsts = [
            self.signed(DECODE, {"codeValue": code, "customerId": f"user_{i}"})
            for i, code in enumerate(codes[1:])
        ]
        self.measure("aplus-sim, replayed signed decode", server.base, [self.replay])
        self.measure(
            "aplus-sim, first decode (each request a fresh order)",
            server.base,
            firsts,
            once=True,
            warm_with=self.replay,
        )
        flows = loadgen.run_flows(
            self.flow(server.base), seconds=self.args.seconds, connections=self.args.connections
        )
        self.record("aplus-sim, cashier flow order -> decode -> notify", flows, "flows/s")
        self.kids.stop(server.process)

    def flow(self, base: str):
        """One cashier flow: create an order, decode it, notify S; True if all three were S."""

        def run(session: requests.Session, index: int) -> bool:
            order = session.post(base + "/_sim/orders", json=ORDER, timeout=10).json()
            decode = self.signed(
                DECODE, {"codeValue": order["codeValue"], "customerId": f"f{index}"}
            )
            answer = session.post(
                base + DECODE, data=decode.body, headers=decode.headers, timeout=10
            )
            decoded = answer.json()
            if decoded["result"]["resultStatus"] != "S":
                return False
            notify = self.signed(NOTIFY, notify_body(decoded, index))
            answer = session.post(
                base + NOTIFY, data=notify.body, headers=notify.headers, timeout=10
            )
            return loadgen.good_answer(answer, True)

        return run

    # -- the others ------------------------------------------------------------------------------

    def floor_and_hello(self) -> None:
        """The signed floor and Flask hello-world on granian."""
        floor_key = signing.generate_private_key()
        key_file = self.tmp / "floor_private_key.pem"
        key_file.write_text(signing.private_key_pem(floor_key))
        env = {
            "FLOOR_CLIENT_PUBLIC_KEY": signing.public_key_base64(self.key.public_key()),
            "FLOOR_PRIVATE_KEY_FILE": str(key_file),
            "FLOOR_CLIENT_ID": CLIENT_ID,
        }
        floor = targets.granian_app(self.kids, "floor_app:app", self.args.workers, env)
        floor.wait_ready("/", want=None)
        self.measure(
            "signed floor: Flask on granian, verify + sign only", floor.base, [self.replay]
        )
        self.kids.stop(floor.process)
        hello = targets.granian_app(self.kids, "floor_app:hello", self.args.workers, {})
        hello.wait_ready("/")
        self.measure(
            "Flask hello-world on granian", hello.base, [Prepared("GET", "/")], expect_s=False
        )
        self.kids.stop(hello.process)

    def prism(self) -> None:
        """Prism's mock of the simulator's OpenAPI document, if installed."""
        executable = targets.find_tool(self.args.prism, "prism")
        if not executable:
            self.skipped.append(
                "Prism: not installed (npm install @stoplight/prism-cli; --prism PATH)"
            )
            return
        document = self.tmp / "alipayplus.openapi.json"
        out = subprocess.run([targets.CLI, "openapi"], capture_output=True, check=True)
        document.write_bytes(out.stdout)
        server = targets.prism(self.kids, executable, document)
        server.wait_ready("/", want=None)
        self.measure(
            "Prism mock of the same path (no signing, no state)",
            server.base,
            [self.replay],
            expect_s=False,
        )
        self.kids.stop(server.process)

    def wiremock(self) -> None:
        """WireMock with one static stub of the decode answer, if installed (needs Java)."""
        executable = targets.find_tool(self.args.wiremock, "wiremock")
        if not executable:
            self.skipped.append("WireMock: not installed (npm install wiremock; --wiremock PATH)")
            return
        if not targets.shutil.which("java"):
            self.skipped.append("WireMock: Java is not installed")
            return
        server = targets.wiremock(
            self.kids, executable, self.tmp / "wiremock", DECODE, self.decoded
        )
        server.wait_ready("/__admin/health", seconds=120, want=None)
        self.measure("WireMock, one static stub", server.base, [self.replay], expect_s=False)
        self.kids.stop(server.process)


def notify_body(decoded: dict, index: int) -> dict:
    """A successful notifyPayment for a decoded payment."""
    return {
        "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "ok"},
        "paymentRequestId": decoded["paymentRequestId"],
        "paymentAmount": decoded["paymentAmount"],
        "payToAmount": decoded["payToAmount"],
        "customerId": f"f{index}",
        "paymentId": f"BENCH{index:010d}{decoded['paymentRequestId'][-8:]}",
        "paymentTime": signing.format_time(datetime.now(UTC)),
    }


def mint_orders(base: str, count: int) -> list[str]:
    """Create `count` orders through /_sim/orders (4 at a time); their code values."""

    local = threading.local()

    def one(_: int) -> str:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        answer = local.session.post(base + "/_sim/orders", json=ORDER, timeout=30)
        return answer.json()["codeValue"]

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(count)))


# -- output ------------------------------------------------------------------------------------


def floor_rate(rows: list[dict]) -> float:
    """The signed floor's req/s (0 if it was not measured)."""
    return next((r["rate"] for r in rows if r["server"].startswith("signed floor")), 0.0)


def table(bench: Bench, startup: dict) -> str:
    """The human-readable report."""
    floor = floor_rate(bench.rows)
    lines = [
        f"load: {bench.loadgen_name}; the flow: Python client ({bench.args.connections} threads)",
        f"{bench.args.seconds:g} s per target, server workers {bench.args.workers}, loopback",
        "",
        "| server | req/s | ratio to the floor |",
        "|---|---|---|",
    ]
    for row in bench.rows:
        ratio = f"{row['rate'] / floor:.2f}" if floor else "-"
        rate = f"{row['rate']:,.0f}" + (" flows/s" if row["unit"] == "flows/s" else "")
        note = f" ({row['note']})" if row["note"] else ""
        lines.append(f"| {row['server']}{note} | {rate} | {ratio} |")
    lines += ["", *[f"skipped {reason}" for reason in bench.skipped]]
    lines += [f"{name}: {value}" for name, value in startup.items()]
    return "\n".join(lines)


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="load time per target")
    parser.add_argument("--warmup", type=float, default=2.0, help="untimed load before each")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="open connections")
    parser.add_argument("--orders", type=int, default=0, help="orders for first decodes")
    parser.add_argument("--startup-runs", type=int, default=5)
    node = os.environ.get("BENCH_NODE_PREFIX")  # a folder of `npm install --prefix`
    parser.add_argument("--prism", default=node, help="prism, or a folder with node_modules")
    parser.add_argument("--wiremock", default=node, help="wiremock, or such a folder")
    parser.add_argument("--moto", help="moto_server executable")
    parser.add_argument("--python-client", action="store_true", help="do not use wrk")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args(argv)
    if args.orders <= 0:  # more than first decodes can use up in the time
        args.orders = int(800 * args.seconds)
    return args


def main(argv: list[str] | None = None) -> int:
    """Measure everything, print the table (or JSON)."""
    args = parse(argv)
    with tempfile.TemporaryDirectory(prefix="aplus-compare-") as tmp, targets.children() as kids:
        bench = Bench(args, kids, Path(tmp))
        if not args.json:
            print(f"load: {bench.loadgen_name}", flush=True)
        data_dir = Path(tmp) / "data"
        bench.aplus_sim(data_dir)
        bench.floor_and_hello()
        bench.prism()
        bench.wiremock()
        startup = targets.startup_times(kids, data_dir, args)
    if args.json:
        out = {
            "loadgen": bench.loadgen_name,
            "seconds": args.seconds,
            "workers": args.workers,
            "floor_rate": floor_rate(bench.rows),
            "rows": bench.rows,
            "skipped": bench.skipped,
            "startup": startup,
        }
        print(json.dumps(out, indent=2))
    else:
        print(table(bench, startup))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
