"""The rule set the simulator serves (fixtures/code_rules/default.json) and the bundled preset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import validate
from contracts.codes import CodeIdentifier, RuleSet, bundled_preset_path

from .helpers import SG_ROOT, emv, merchant

ROOT = Path(__file__).resolve().parents[3]
DEFAULT = json.loads((ROOT / "fixtures/code_rules/default.json").read_text("utf-8"))
IDENTIFIER = CodeIdentifier(DEFAULT, client_id="SANDBOX_WALLET")
SUFFIX = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", max_size=24
)


def identify(code):
    result = IDENTIFIER.identify_code(code)
    assert validate("identifyCode", "response", result.to_dict()) == []
    return result


def test_default_rules_are_a_valid_inquiry_code_rules_body():
    response = {
        "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
        **DEFAULT,
    }
    assert validate("inquiryCodeRules", "response", response) == []
    assert 0 < len(DEFAULT["version"]) <= 16
    rules = RuleSet.from_body(DEFAULT)
    assert rules.problems == () and len(rules.rules) == len(DEFAULT["codeRules"])


def test_preset_is_the_same_set_with_version_1():
    preset = json.loads(bundled_preset_path().read_text("utf-8"))
    assert preset["version"] == "1"
    assert preset["codeRules"] == DEFAULT["codeRules"]


@settings(max_examples=60)
@given(
    st.sampled_from(
        ["https://qr.alipayplus.com/28166613", "https://qr-pre.alipayplus.com/28166613", "28166604"]
    ),
    SUFFIX,
)
def test_order_codes_the_simulator_mints_are_decoded(prefix, suffix):
    code = prefix + suffix
    result = identify(code)
    assert result.is_supported and result.post_code_match_action_type == "DECODE"
    assert result.code_value == code
    assert json.loads(result.ac_decode_config) == {"routerType": "AC_CODE"}


def test_other_alipayplus_qr_pages_open_directly():
    result = identify("https://qr.alipayplus.com/help")
    assert result.post_code_match_action_type == "OPEN_URL"
    assert result.redirect_url == "https://qr.alipayplus.com/help"
    assert result.user_agent == "AlipayConnect"


def test_entry_code_builds_a_dynamic_url():
    result = identify("ENTRY-SG-Shop42")
    assert result.redirect_url == (
        "https://entry.aplus-sim.dev/entry?region=SG&codeValue=ENTRY-SG-Shop42&issuer=SANDBOX_WALLET"
    )


def test_unknown_and_padded_codes_are_unsupported():
    assert not identify("wxp://f2f0abc").is_supported
    assert not identify(" 28166604abc").is_supported


def test_alipayplus_emvco_code_is_decoded_and_beats_the_tie_and_the_catch_all():
    code = emv(merchant("26", ("00", "com.alipayplus"), ("01", "M1")), ("15", "x"), *SG_ROOT)
    result = identify(code)
    assert result.post_code_match_action_type == "DECODE"


def test_url_inside_an_emvco_template_is_opened():
    code = emv(merchant("30", ("00", "com.aplus-sim.entry"), ("01", "https://pay.example/s/1")))
    assert identify(code).redirect_url == "https://pay.example/s/1"


@pytest.mark.parametrize(
    ("poi", "amount", "action"),
    [("11", (), "OPEN_URL"), ("12", (("54", "12.50"),), "DECODE")],
)
def test_national_qr_static_opens_dynamic_decodes(poi, amount, action):
    code = emv(merchant("27", ("00", "sg.aplus-sim.national")), *amount, *SG_ROOT, poi=poi)
    result = identify(code)
    assert result.post_code_match_action_type == action
    if action == "OPEN_URL":
        assert result.redirect_url.startswith("https://entry.aplus-sim.dev/national-qr?region=SG")
        assert "issuer=SANDBOX_WALLET" in result.redirect_url


def test_other_sg_emvco_codes_go_to_the_not_supported_page():
    code = emv(merchant("28", ("00", "sg.other.scheme")), *SG_ROOT)
    result = identify(code)
    assert result.redirect_url.startswith("https://entry.aplus-sim.dev/not-supported")
    assert "trust" not in json.loads(result.ac_decode_config)


def test_primitive_tag_15_code():
    code = emv(("15", "6011000000000001"), ("58", "MY"), ("59", "KEDAI"), ("60", "KL"))
    assert identify(code).redirect_url.startswith("https://entry.aplus-sim.dev/national-qr")


@settings(max_examples=150)
@given(
    st.one_of(
        st.text(max_size=60),
        st.builds(lambda s: emv(merchant("26", ("00", s or "x")), *SG_ROOT), st.text(max_size=20)),
        st.builds(lambda p, s: p + s, st.sampled_from(["0002", "ENTRY-", "https://"]), st.text()),
    )
)
def test_any_code_gets_a_well_formed_answer(code):
    result = IDENTIFIER.identify_code(code)
    assert validate("identifyCode", "response", result.to_dict()) == []
    if result.result["resultStatus"] == "F":
        assert code == "" or code.isspace()  # Java whitespace is a subset of str.isspace()
    else:
        assert result.result["resultCode"] == "SUCCESS"
        assert (result.code_value is None) == (result.post_code_match_action_type == "OPEN_URL")
