"""The SDK helpers fail loudly (never skip) when .venv-sdk is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import sdk


def test_missing_sdk_venv_fails_with_make_sdk(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="run `make sdk`"):
        sdk.run_sdk_script("signature_ops.py", {"ops": []}, venv=tmp_path / "no-venv")


def test_sdk_venv_is_found_relative_to_the_repo() -> None:
    assert Path(__file__).resolve().parents[2] / ".venv-sdk" == sdk.SDK_VENV
    assert (sdk.SCRIPTS / "sdk_call.py").exists()


@pytest.mark.sdk
def test_the_sdk_venv_is_there_and_has_the_sdk() -> None:
    assert sdk.run_sdk_script("signature_ops.py", {"ops": []}) == {"results": []}
