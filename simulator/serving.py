"""Run the simulator under a production WSGI server (granian), one or several worker processes.

Settings travel to the worker processes as APLUS_SIM_* environment variables (the same ones
`SimConfig.from_any` reads), and the parent builds the app once first so the database, the keys
and the default MPP exist before any worker starts (no first-start races between workers).
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from simulator.config import SimConfig

if TYPE_CHECKING:
    from flask import Flask

# Where serve/demo record the address they listen on, so client commands find it.
ADDRESS_FILE = "address.json"


def record_address(data_dir: Path, url: str) -> Path:
    """Write `<data_dir>/address.json` ({"url", "pid"}); removed again by `forget_address`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / ADDRESS_FILE
    path.write_text(json.dumps({"url": url, "pid": os.getpid()}) + "\n")
    return path


def forget_address(data_dir: Path) -> None:
    """Remove the recorded address on a clean stop (only if this process wrote it)."""
    path = data_dir / ADDRESS_FILE
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def wsgi_app() -> Flask:
    """The app of one worker process, configured from the APLUS_SIM_* environment."""
    from simulator import create_app

    return create_app(None)


def free_port(host: str) -> int:
    """A port the OS says is free on `host` (for --port 0)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_problem(host: str, port: int) -> str | None:
    """Why `host:port` cannot be listened on (None if it can): checked before granian starts,
    whose own failure is a Rust panic a newcomer should not have to read."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def export_config(cfg: SimConfig) -> None:
    """Put every setting into APLUS_SIM_* variables so worker processes build the same app."""
    for f in fields(cfg):
        value: Any = getattr(cfg, f.name)
        if isinstance(value, tuple):
            value = ",".join(str(item) for item in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, Path):
            value = str(value.resolve())
        os.environ[f"APLUS_SIM_{f.name.upper()}"] = str(value)


def banner(app: Flask, out: TextIO) -> None:
    """What a newcomer needs: the URLs, the default MPP's Client-Id and where its keys are."""
    sim = app.extensions["aplus_sim"]
    base = sim.config.base_url.rstrip("/")
    keys_dir = sim.keys.default_mpp_dir.resolve()
    lines = [
        f"aplus-sim listening on {base}",
        f"  Alipay+ APIs      {base}/aps/api/v1/payments/userInitiatedPay (and notifyPayment,",
        "                    /aps/api/v1/codes/inquiryCodeRules)",
        f"  control plane     {base}/_sim/health  {base}/_sim/orders  {base}/_sim/payments",
        f"  dashboard         {base}/_sim/ui",
        f"  storage           {sim.engine.url.render_as_string(hide_password=True)}",
        f"  clock             {sim.config.clock}",
        f"  default MPP       Client-Id {sim.config.default_client_id}",
        f"  its private key   {keys_dir / 'private_key.txt'} (bare base64 PKCS#8; also .pem)",
        f"  simulator key     {sim.keys.keys_dir.resolve() / 'simulator_public_key.txt'}",
        "  try: aplus-sim order create --amount 1000 --currency JPY",
    ]
    out.write("\n".join(lines) + "\n")
    out.flush()


def serve(cfg: SimConfig, host: str, port: int, workers: int, out: TextIO, threads: int = 4) -> int:
    """Initialise storage and keys, print the banner, then serve until interrupted."""
    from granian import Granian
    from granian.constants import Interfaces

    from simulator import create_app

    if port == 0:
        port = free_port(host)
    problem = port_problem(host, port)
    if problem:
        out.write(f"aplus-sim: cannot listen on {host}:{port}: {problem}\n")
        return 2
    if not cfg.base_url or cfg.base_url == SimConfig.base_url:
        shown = f"[{host}]" if ":" in host else host
        cfg.base_url = f"http://{shown}:{port}"
    cfg.data_dir = Path(cfg.data_dir).resolve()
    export_config(cfg)
    # Build once in this process (no scheduler thread here): tables, keys, default MPP.
    parent_cfg = SimConfig.from_any({**_as_dict(cfg), "run_scheduler": False})
    app = create_app(parent_cfg)
    banner(app, out)
    app.extensions["aplus_sim"].engine.dispose()
    server = Granian(
        target="simulator.serving:wsgi_app",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        log_access=False,
        # Few threads per worker: more only fight over the GIL (measured: 16 threads gave a
        # lower rate and a 3x worse p99 than 4 for signed requests).
        blocking_threads=threads,
    )
    record_address(cfg.data_dir, cfg.base_url)
    try:
        server.serve()
    finally:
        forget_address(cfg.data_dir)
    return 0


def _as_dict(cfg: SimConfig) -> dict[str, Any]:
    return {f.name: getattr(cfg, f.name) for f in fields(cfg)}
