"""`aplus-sim identify`: default rules, --rules, --url (stub and the real simulator), output."""

from __future__ import annotations

import io
import json

import pytest
from werkzeug.wrappers import Request, Response

from simulator.cli import main
from tests.support.live_server import live_server

ORDER_CODE = "https://qr.alipayplus.com/28166613Ab12Cd34"


def run(capsys, *argv):
    code = main(["identify", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["identify", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "aplus-sim identify --url" in out


def test_default_rules_human_output(capsys):
    code, out, _ = run(capsys, ORDER_CODE, "ENTRY-SG-Shop42", "wxp://f2f0abc")
    lines = out.splitlines()
    assert code == 1  # one code is unsupported
    assert lines[0].startswith("DECODE") and ORDER_CODE in lines[0] and "PREFIX" in lines[0]
    assert lines[1].startswith("OPEN_URL")
    assert "-> https://entry.aplus-sim.dev/entry?region=SG&codeValue=ENTRY-SG-Shop42" in lines[1]
    assert lines[2].startswith("UNSUPPORTED") and "wxp://f2f0abc" in lines[2]


def test_json_lines_have_exactly_the_sdk_fields(capsys):
    code, out, _ = run(capsys, "--json", "--client-id", "MY_MPP", ORDER_CODE, "ENTRY-SG-Shop42")
    assert code == 0
    first, second = (json.loads(line) for line in out.splitlines())
    assert first == {
        "isSupported": True,
        "postCodeMatchActionType": "DECODE",
        "codeValue": ORDER_CODE,
        "redirectUrl": None,
        "userAgent": None,
        "acDecodeConfig": '{"routerType":"AC_CODE"}',
        "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
    }
    assert second["redirectUrl"].endswith("&issuer=MY_MPP")


def test_blank_code_is_reported_as_param_illegal(capsys):
    code, out, _ = run(capsys, "--json", "  ")
    assert code == 1
    assert json.loads(out)["result"]["resultCode"] == "PARAM_ILLEGAL"


def test_codes_from_stdin(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("28166604abc\n\nhello\n"))
    code, out, _ = run(capsys, "-")
    assert [line.split()[0] for line in out.splitlines()] == ["DECODE", "UNSUPPORTED"]
    assert code == 1


def test_rules_file_in_both_formats(tmp_path, capsys):
    rule = {
        "codeMatchPattern": {"matchMethod": "PREFIX", "prefix": "MINE"},
        "postCodeMatchAction": {"postCodeMatchActionType": "DECODE"},
    }
    bad = {"codeMatchPattern": {"matchMethod": "FUZZY"}, "postCodeMatchAction": {}}
    response = tmp_path / "response.json"
    response.write_text(
        json.dumps({"result": {"resultStatus": "S"}, "version": "7", "codeRules": [bad, rule]})
    )
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"version": "7", "codeRules": [rule]}))
    for path in (response, plain):
        code, out, _ = run(capsys, "--rules", str(path), "mine-1", ORDER_CODE)
        assert code == 1
        assert out.splitlines()[0].startswith("DECODE")
        assert out.splitlines()[1].startswith("UNSUPPORTED")  # the default rules are not used
    assert run(capsys, "--rules", str(response), "x")[2].count("warning: rule skipped") == 1


@pytest.mark.parametrize("content", ["not json", "{}", '{"codeRules": []}'])
def test_unusable_rules_file_exits_2(tmp_path, capsys, content):
    path = tmp_path / "rules.json"
    path.write_text(content)
    code, out, err = run(capsys, "--rules", str(path), ORDER_CODE)
    assert code == 2 and out == "" and "aplus-sim identify:" in err


def _stub(answer, seen):
    def app(environ, start_response):
        request = Request(environ)
        seen.append((request.path, request.headers.get("Client-Id")))
        return Response(json.dumps(answer), mimetype="application/json")(environ, start_response)

    return app


def test_url_fetches_rules_from_a_server(capsys):
    seen = []
    rules = {
        "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
        "version": "x1",
        "codeRules": [
            {
                "codeMatchPattern": {"matchMethod": "PREFIX", "prefix": "REMOTE"},
                "postCodeMatchAction": {"postCodeMatchActionType": "DECODE"},
            }
        ],
    }
    with live_server(_stub(rules, seen)) as server:
        code, out, _ = run(capsys, "--url", server.url, "--client-id", "C9", "remote-1")
    assert code == 0 and out.startswith("DECODE")
    assert seen == [("/aps/api/v1/codes/inquiryCodeRules", "C9")]


def test_url_with_a_failed_answer_exits_2(capsys):
    failed = {
        "result": {"resultCode": "UNKNOWN_EXCEPTION", "resultStatus": "U", "resultMessage": "x"}
    }
    with live_server(_stub(failed, [])) as server:
        code, _, err = run(capsys, "--url", server.url, ORDER_CODE)
    assert code == 2 and "UNKNOWN_EXCEPTION" in err


def test_url_against_the_real_simulator_decodes_the_codes_it_mints(tmp_path, capsys):
    from simulator import create_app

    app = create_app({"data_dir": str(tmp_path), "clock": "virtual", "run_scheduler": False})
    with live_server(app) as server:
        order = app.test_client().post(
            "/_sim/orders", json={"amount": {"currency": "JPY", "value": "1000"}}
        )
        minted = order.get_json()["codeValue"]
        code, out, _ = run(capsys, "--url", server.url, "--json", minted)
    assert code == 0
    assert json.loads(out)["postCodeMatchActionType"] == "DECODE"
    assert json.loads(out)["codeValue"] == minted


def test_untrusted_rules_can_be_rejected_from_the_command_line(tmp_path, capsys):
    rule = {
        "codeMatchPattern": {"matchMethod": "PREFIX", "prefix": "UNTRUSTED"},
        "postCodeMatchAction": {"postCodeMatchActionType": "DECODE"},
        "extendInfo": json.dumps({"matchResult": json.dumps({"trust": "N"})}),
    }
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"version": "1", "codeRules": [rule]}))
    assert run(capsys, "--rules", str(path), "UNTRUSTED-1")[0] == 0
    code, out, _ = run(capsys, "--rules", str(path), "--untrusted", "reject", "UNTRUSTED-1")
    assert code == 1 and "untrusted" in out
