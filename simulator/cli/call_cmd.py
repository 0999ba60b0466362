"""`aplus-sim call`: sign an Alipay+ request as a wallet, send it, verify and print the answer."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulator.cli import client

API_PATHS = {
    "inquiryCodeRules": "/aps/api/v1/codes/inquiryCodeRules",
    "userInitiatedPay": "/aps/api/v1/payments/userInitiatedPay",
    "notifyPayment": "/aps/api/v1/payments/notifyPayment",
}

CALL_EXAMPLES = """examples:
  aplus-sim call inquiryCodeRules
  aplus-sim call userInitiatedPay --data '{"codeValue": "CODE_VALUE", "customerId": "u_10001"}'
  aplus-sim call notifyPayment --data @notify.json
  aplus-sim call userInitiatedPay --data - < body.json --client-id MY_MPP --private-key my.pem
  aplus-sim call userInitiatedPay --data '{"codeValue": "CODE_VALUE", "customerId": "u_10001"}' \\
      -H 'X-Aplus-Sim-Result: U/UNKNOWN_EXCEPTION' --fail-on F

Identity: unless --client-id and --private-key are given, signs as the simulator's default MPP;
its key is found through the running simulator (GET /_sim/keys names the key directory), else
in --data-dir (default .aplus-sim, or .aplus-sim/simulator as `make run` lays it out).
Checks the answer's signature with the simulator's public key (GET /_sim/keys), prints both.

Exit code: 0 when the answer verifies and its result.resultStatus is S; 1 when it does not
verify or its status is one of --fail-on (default F,U; --fail-on '' accepts any status);
2 on bad options or an unreachable simulator.
"""


def register(subparsers: Any) -> None:
    """Add `call`."""
    call = subparsers.add_parser(
        "call",
        help="sign and send an Alipay+ API request, verify the answer",
        epilog=CALL_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    call.add_argument("api", help="inquiryCodeRules, userInitiatedPay, notifyPayment or a path")
    call.add_argument("--data", default="{}", help="JSON body, @FILE or - for stdin")
    client.add_sim_option(call)
    call.add_argument("--data-dir", default=None, help="where the default MPP's keys are")
    call.add_argument("--client-id", default="", help="sign as this Client-Id")
    call.add_argument("--private-key", default="", help="key file or bare base64 text")
    call.add_argument("--simulator-public-key", default="", help="file or text (default: fetch)")
    call.add_argument(
        "--fail-on",
        default="F,U",
        metavar="STATUSES",
        help="exit 1 when the answer's resultStatus is one of these (default F,U)",
    )
    call.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="an extra request header (repeatable), e.g. 'X-Aplus-Sim-Result: U/UNKNOWN_EXCEPTION'",
    )
    call.set_defaults(func=run_call)


def _read_data(data: str) -> bytes:
    if data == "-":
        return sys.stdin.buffer.read()
    if data.startswith("@"):
        return Path(data[1:]).read_bytes()
    return data.encode()


def _key_text(value: str) -> str:
    """The key text itself, or the contents of the file it names."""
    try:
        is_file = Path(value).is_file()
    except OSError:  # e.g. a base64 key with a "/"-free run longer than a file name may be
        is_file = False
    return Path(value).read_text() if is_file else value


def _show(title: str, first_line: str, headers: dict[str, str], body: bytes) -> None:
    print(f"--- {title}")
    print(first_line)
    for name, value in headers.items():
        print(f"{name}: {value}")
    print()
    text = body.decode("utf-8", "replace")
    try:
        print(json.dumps(json.loads(text), indent=2, ensure_ascii=False))
    except ValueError:
        print(text)


def key_candidates(client_id: str, data_dir: str | None, sim_keys: dict[str, Any]) -> list[Path]:
    """Where the default MPP's private key may be, best first: the directory the running
    simulator names, then the data dir given (or .aplus-sim and the demo's .aplus-sim/simulator)."""
    found: list[Path] = []
    if sim_keys.get("defaultMppKeyDir") and sim_keys.get("defaultClientId") == client_id:
        found.append(Path(sim_keys["defaultMppKeyDir"]) / "private_key.pem")
    dirs = [Path(data_dir)] if data_dir else client.data_dirs()
    for base in dirs:
        found.append(base / "keys" / client_id / "private_key.pem")
    return found


def _identity(args: argparse.Namespace, sim_keys: dict[str, Any]) -> tuple[str, Any]:
    """(Client-Id, private key) to sign with; ValueError with what to do when none is found."""
    from contracts import signing

    if args.private_key:
        if not args.client_id:
            raise ValueError("--private-key needs --client-id")
        return args.client_id, signing.load_private_key(_key_text(args.private_key))
    from simulator.config import DEFAULT_CLIENT_ID

    client_id = args.client_id or sim_keys.get("defaultClientId") or DEFAULT_CLIENT_ID
    candidates = key_candidates(client_id, args.data_dir, sim_keys)
    for key_file in candidates:
        if key_file.exists():
            return client_id, signing.load_private_key(key_file.read_text())
    raise ValueError(
        f"no key for {client_id} in {', '.join(str(c.parent) for c in candidates)}; run "
        "'aplus-sim serve' (or 'aplus-sim keys') with the same --data-dir first, or pass "
        "--client-id and --private-key"
    )


def _sim_keys(base: str, required: bool) -> dict[str, Any]:
    """GET /_sim/keys ({} if the simulator is unreachable and we can do without it)."""
    try:
        response = client.request("GET", f"{base}/_sim/keys")
        return response.json() if response.status_code == 200 else {}
    except (client.Unreachable, ValueError):
        if required:
            raise
        return {}


def _outcome(args: argparse.Namespace, content: bytes) -> int:
    """0, or 1 when the answer's resultStatus is one of --fail-on."""
    fail_on = {s.strip().upper() for s in args.fail_on.split(",") if s.strip()}
    try:
        status = (json.loads(content).get("result") or {}).get("resultStatus")
    except (ValueError, AttributeError):
        status = None
    if status in fail_on or (status is None and fail_on):
        print(f"--- resultStatus {status} (--fail-on {','.join(sorted(fail_on))}): exit 1")
        return 1
    return 0


def _headers(items: list[str]) -> dict[str, str]:
    extra: dict[str, str] = {}
    for header in items:
        name, colon, value = header.partition(":")
        if not colon or not name.strip():
            raise ValueError(f"--header {header!r} is not 'NAME: VALUE'")
        extra[name.strip()] = value.strip()
    return extra


def run_call(args: argparse.Namespace) -> int:
    """Sign a request as a wallet, send it, verify and print the answer."""
    from contracts import signing

    path = API_PATHS.get(args.api, args.api)
    if not path.startswith("/"):
        print(
            f"unknown API {args.api!r}; use one of {sorted(API_PATHS)} or a path", file=sys.stderr
        )
        return 2
    try:
        body = _read_data(args.data)
        json.loads(body or b"{}")
    except (OSError, ValueError) as exc:
        print(f"--data is not JSON: {exc}", file=sys.stderr)
        return 2
    base = client.resolve_url(args.sim, args.data_dir)
    sim_keys = _sim_keys(base, required=not args.simulator_public_key)
    try:
        extra = _headers(args.header)
        client_id, private_key = _identity(args, sim_keys)
        alipay_key = signing.load_public_key(
            _key_text(args.simulator_public_key)
            if args.simulator_public_key
            else sim_keys["publicKey"]
        )
    except (ValueError, KeyError) as exc:
        print(f"aplus-sim call: {exc}", file=sys.stderr)
        return 2
    headers = signing.signed_request_headers(private_key, client_id, path, body, datetime.now(UTC))
    headers.update(extra)  # headers are not part of the signed content
    _show("request", f"POST {base}{path}", headers, body)
    response = client.request("POST", base + path, data=body, headers=headers)
    _show(
        "response", f"HTTP {response.status_code}", dict(response.headers.items()), response.content
    )
    try:
        signing.verify_headers(
            alipay_key, path, response.headers, response.content, time_header="Response-Time"
        )
    except ValueError as exc:
        print(f"--- the answer's signature does NOT verify: {exc}")
        return 1
    print("--- the answer's signature verifies with the simulator's public key")
    return _outcome(args, response.content)
