"""`aplus-sim validate` and `aplus-sim openapi`, driven through simulator.cli.main."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from contracts import openapi
from simulator.cli import main

SAMPLE = (
    Path(__file__).parents[2] / "fixtures" / "samples" / "userInitiatedPay.response.success.json"
)
# The spec's §4.3 example, used when the fixture is not there.
ROOT = Path(__file__).resolve().parents[2]
SPEC_EXAMPLE = json.loads(
    (ROOT / "fixtures" / "samples" / "userInitiatedPay.response.success.json").read_text(
        encoding="utf-8"
    )
)  # the spec's §4.3 example
DECODE = ["--api", "userInitiatedPay", "--kind", "response"]


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """The spec's sample decode response as a file."""
    if SAMPLE.exists():
        return SAMPLE
    path = tmp_path / "userInitiatedPay.response.json"
    path.write_text(json.dumps(SPEC_EXAMPLE), encoding="utf-8")
    return path


def test_the_spec_sample_is_valid(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(sample), *DECODE]) == 0
    assert capsys.readouterr().out == "valid\n"


def test_a_decimal_amount_is_rejected_naming_the_pointer(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message = json.loads(sample.read_text(encoding="utf-8"))
    message["paymentAmount"]["value"] = "100.00"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(message), encoding="utf-8")

    assert main(["validate", str(broken), *DECODE]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines, "a violation must be printed"
    pointer, rule, text = lines[0].split("  ", 2)
    assert (pointer, rule) == ("/paymentAmount/value", "amount.minor-units")
    assert "100.00" in text
    assert all(len(line.split("  ", 2)) == 3 for line in lines)


def test_stdin_is_read_for_a_dash(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    request = {"codeValue": "https://qr.alipayplus.com/28166613Ab12Cd34", "customerId": ""}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(request)))
    assert main(["validate", "-", "--api", "userInitiatedPay", "--kind", "request"]) == 1
    assert capsys.readouterr().out.startswith("/customerId  string.empty  ")


def test_a_message_that_is_not_an_object_is_reported_at_the_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "list.json"
    path.write_text("[]", encoding="utf-8")
    assert main(["validate", str(path), "--api", "refund", "--kind", "request"]) == 1
    assert capsys.readouterr().out.startswith("(root)  schema.type  ")


def test_broken_json_is_reported_with_its_position_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"codeValue": "x",\n "customerId": }', encoding="utf-8")
    assert main(["validate", str(path), "--api", "userInitiatedPay", "--kind", "request"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "is not valid JSON" in captured.err
    assert "line 2" in captured.err


def test_a_missing_file_is_reported_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.json"
    assert main(["validate", str(missing), *DECODE]) == 2
    assert f"cannot read {missing}" in capsys.readouterr().err


def test_unknown_api_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["validate", "-", "--api", "pay", "--kind", "request"])
    assert stop.value.code == 2
    assert "invalid choice: 'pay'" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["validate", "openapi"])
def test_help_has_examples(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main([command, "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert f"aplus-sim {command}" in out


@pytest.mark.parametrize("side", [None, "alipayplus", "mpp"])
def test_openapi_prints_the_document(side: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["openapi"] + (["--side", side] if side else [])
    assert main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    assert document == openapi.build(side or "alipayplus")
    assert document["openapi"].startswith("3.1")


def test_openapi_server_option_sets_the_base_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["openapi", "--side", "mpp", "--server", "http://127.0.0.1:9000"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["servers"] == [{"url": "http://127.0.0.1:9000"}]
    assert openapi.build("mpp")["servers"][0]["url"] == "{mppBase}"  # cache untouched


def test_openapi_refuses_an_unknown_side(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["openapi", "--side", "merchant"])
    assert "invalid choice" in capsys.readouterr().err
