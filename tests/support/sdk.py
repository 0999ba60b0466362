"""The official global-open-sdk-python, run in its own venv (.venv-sdk) through a subprocess.

The SDK pins its own `cryptography`, so it never shares an interpreter with the project: each
helper here starts `.venv-sdk/bin/python` on a script in tests/support/sdk_scripts/ and talks
JSON over stdin/stdout. Without the venv, every helper raises SdkUnavailable (an AssertionError,
so the test FAILS) telling you to run `make sdk`.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
SDK_VENV = REPO_ROOT / ".venv-sdk"
SCRIPTS = Path(__file__).resolve().parent / "sdk_scripts"
SDK_VERSION = "1.7.1"
TIMEOUT_SECONDS = 60


class SdkUnavailable(AssertionError):
    """The official SDK's venv is missing or broken; the fix is `make sdk`."""


class SdkScriptFailed(AssertionError):
    """A script in sdk_scripts/ crashed (its stderr is in the message)."""


def sdk_python(venv: Path = SDK_VENV) -> Path:
    """Path of the SDK venv's interpreter; SdkUnavailable if it is not there."""
    python = venv / "bin" / "python"
    if not python.exists():
        raise SdkUnavailable(
            f"the official Python SDK's venv is missing ({python} not found): "
            f"run `make sdk` in {REPO_ROOT} (installs global-open-sdk-python=={SDK_VERSION} "
            "into .venv-sdk)"
        )
    return python


def run_sdk_script(name: str, payload: dict[str, Any], *, venv: Path = SDK_VENV) -> dict[str, Any]:
    """Run sdk_scripts/<name> in the SDK venv with `payload` as JSON on stdin; return its JSON."""
    python = sdk_python(venv)
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    env.pop("VIRTUAL_ENV", None)
    try:
        proc = subprocess.run(
            [str(python), "-B", "-s", str(SCRIPTS / name)],
            input=json.dumps(payload, ensure_ascii=False),
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=env,
            cwd=str(SCRIPTS),
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except OSError as exc:
        raise SdkUnavailable(f"cannot start {python} ({exc}): run `make sdk`") from exc
    if proc.returncode != 0:
        if "No module named 'com'" in proc.stderr:
            raise SdkUnavailable(
                f"{python} has no global-open-sdk-python installed: run `make sdk`\n{proc.stderr}"
            )
        raise SdkScriptFailed(f"{name} exited with {proc.returncode}:\n{proc.stderr}")
    return json.loads(proc.stdout)


def _text(body: bytes | str) -> str:
    return body.decode("utf-8") if isinstance(body, bytes) else body


def sdk_signature_ops(ops: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
    """Run (op, positional args) pairs in one SDK process; each result is {value} or {error}."""
    payload = {"ops": [{"op": op, "args": args} for op, args in ops]}
    return run_sdk_script("signature_ops.py", payload)["results"]


def sdk_sign(
    method: str, path: str, client_id: str, time_str: str, body: bytes | str, private_key: str
) -> str:
    """signature_tool.sign: the URL-encoded base64 value the SDK puts after `signature=`."""
    (result,) = sdk_signature_ops(
        [("sign", [method, path, client_id, time_str, _text(body), private_key])]
    )
    if "error" in result:
        raise SdkScriptFailed(f"the SDK could not sign: {result['error']}")
    return result["value"]


def sdk_call(
    base_url: str,
    path: str,
    body: dict[str, Any] | str,
    client_id: str,
    private_key_b64: str,
    alipay_public_key_b64: str,
    *,
    key_version: str | None = None,
) -> dict[str, Any]:
    """POST `body` to base_url+path as `client_id` with the SDK's DefaultAlipayClient, for real.

    Signing, headers and response verification are the SDK's own; only the transport is plain
    HTTP (sdk_scripts/plain_http.py). Returns {status, headers, body, error} plus raw_body,
    returned (what `execute` gave back) and request (url, headers, body the SDK sent). `error`
    holds the SDK's exception text, e.g. when it refuses a response's signature.
    """
    return run_sdk_script(
        "sdk_call.py",
        {
            "base_url": base_url,
            "path": path,
            "body": body,
            "client_id": client_id,
            "private_key": private_key_b64,
            "alipay_public_key": alipay_public_key_b64,
            "key_version": key_version,
        },
    )
