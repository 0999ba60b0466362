"""identify_code against hand-made rule sets: every rule kind, priorities, URLs, results."""

from __future__ import annotations

import json

import pytest

from contracts.codes import CodeIdentifier, RuleSet, identify_code
from contracts.codes import identify as identify_module

from .helpers import SG_ROOT, body, emv, merchant, open_url, rule

SUCCESS = {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"}
FIELDS = [
    "isSupported",
    "postCodeMatchActionType",
    "codeValue",
    "redirectUrl",
    "userAgent",
    "acDecodeConfig",
    "result",
]


def ident(code, *rules, client_id="CLIENT_1", **kw):
    return identify_code(code, body(*rules), client_id=client_id, **kw)


# -- results -------------------------------------------------------------------------------


def test_decode_result_has_exactly_the_sdk_fields():
    result = ident("28166604n7IDRTHBUSUCCDCCSB", rule("PREFIX", prefix="28166604"))
    assert list(result.to_dict()) == FIELDS
    assert result.to_dict() == {
        "isSupported": True,
        "postCodeMatchActionType": "DECODE",
        "codeValue": "28166604n7IDRTHBUSUCCDCCSB",
        "redirectUrl": None,
        "userAgent": None,
        "acDecodeConfig": "",  # the rule has no extendInfo
        "result": SUCCESS,
    }


def test_unknown_code_is_unsupported_with_success_result_and_the_code():
    result = ident("hello", rule("PREFIX", prefix="28166604"))
    assert result.to_dict() == {
        "isSupported": False,
        "postCodeMatchActionType": None,
        "codeValue": "hello",
        "redirectUrl": None,
        "userAgent": None,
        "acDecodeConfig": None,
        "result": SUCCESS,
    }


@pytest.mark.parametrize("blank", ["", "   ", "\t\n", None])
def test_blank_code_is_param_illegal(blank):
    result = ident(blank, rule("PREFIX", prefix="28166604"))
    assert result.is_supported is False
    assert result.result["resultStatus"] == "F"
    assert result.result["resultCode"] == "PARAM_ILLEGAL"


def test_internal_error_is_swallowed_into_unsupported(monkeypatch):
    def boom(code, rules):
        raise RuntimeError("bug")

    monkeypatch.setattr(identify_module, "select_rule", boom)
    result = ident("28166604abc", rule("PREFIX", prefix="28166604"))
    assert result.is_supported is False
    assert result.result == SUCCESS
    assert result.code_value == "28166604abc"


def test_ac_decode_config_is_match_result_without_trust_fields():
    match_result = {
        "routerType": "AC_CODE",
        "trust": "Y",
        "nonSdkJarSupportVersion": "1.0.0",
        "sdkJarSupportVersion": "2.1.0.20240123",
    }
    result = ident("28166604x", rule("PREFIX", prefix="28166604", match_result=match_result))
    assert json.loads(result.ac_decode_config) == {
        "routerType": "AC_CODE",
        "sdkJarSupportVersion": "2.1.0.20240123",
    }


def test_router_type_does_not_decide_the_action():
    r = rule("PREFIX", prefix="28166604", match_result={"routerType": "AC_URL"})
    assert ident("28166604x", r).post_code_match_action_type == "DECODE"


# -- PREFIX ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "supported"),
    [
        ("HTTPS://QR.ALIPAYPLUS.COM/28166613ABC", True),
        ("https://qr.alipayplus.com/28166613", True),
        (" https://qr.alipayplus.com/28166613abc", False),  # leading space defeats the prefix
        ("https://qr.alipayplus.com/2816661", False),
        ("httpſ://qr.alipayplus.com/28166613abc", True),  # long s matches s, as in Java
        ("ｈttps://qr.alipayplus.com/28166613abc", False),  # full-width h does not
    ],
)
def test_prefix_rule(code, supported):
    r = rule("PREFIX", prefix="https://qr.alipayplus.com/28166613")
    assert ident(code, r).is_supported is supported


def test_prefix_with_dotted_capital_i_and_kelvin_sign():
    r = rule("PREFIX", prefix="kid")
    assert ident("\u212aİD-1", r).is_supported


# -- REGEX -----------------------------------------------------------------------------------


def test_regex_must_match_the_whole_code():
    r = rule("REGEX", regex="2-ZP-.+-.+-.*-.+")
    assert ident("2-ZP-a-b--c", r).is_supported
    assert not ident("x2-ZP-a-b--c", r).is_supported


def test_regex_is_case_sensitive_and_dot_stops_at_line_breaks():
    r = rule("REGEX", regex="abc.*")
    assert not ident("ABC", r).is_supported
    assert not ident("abc\nx", r).is_supported


def test_unusable_rule_is_reported_and_the_others_still_work():
    rules = RuleSet.from_body(
        body(rule("REGEX", regex="\\p{IsLatin}+"), rule("PREFIX", prefix="28166604"))
    )
    assert len(rules.rules) == 1
    assert "codeRules[0]" in rules.problems[0]
    assert identify_code("28166604x", rules).is_supported


def test_prefix_and_regex_ignore_extend_info_match_pattern():
    r = rule(
        "PREFIX",
        prefix="28166604",
        priority=500,
        match_pattern={"matcherType": "PREFIX", "prefix": "nothing", "priority": 99999},
    )
    loser = rule("PREFIX", prefix="2816", priority=600, action=open_url("USE_DIRECTLY"))
    assert ident("28166604x", loser, r).post_code_match_action_type == "DECODE"


# -- EMVCO -----------------------------------------------------------------------------------

ALIPAYPLUS = rule(
    "EMVCO",
    emvMatchRules=[{"extendedMerchantTag": "00", "extendedMerchantValue": "com.alipayplus"}],
)


def test_emvco_rule_matches_a_merchant_template():
    code = emv(merchant("26", ("00", "com.alipayplus"), ("01", "M1")), *SG_ROOT)
    result = ident(code, ALIPAYPLUS)
    assert result.is_supported and result.code_value == code


@pytest.mark.parametrize("tag", ["26", "51", "80", "99"])
def test_merchant_templates_26_to_51_and_80_to_99_count(tag):
    assert ident(emv(merchant(tag, ("00", "com.alipayplus"))), ALIPAYPLUS).is_supported


@pytest.mark.parametrize("tag", ["15", "25", "62", "64", "52"])
def test_other_tags_are_not_merchant_templates(tag):
    code = emv(merchant(tag, ("00", "com.alipayplus")))
    assert not ident(code, ALIPAYPLUS).is_supported


def test_broken_crc_disables_emvco_rules_but_prefix_still_works():
    code = emv(merchant("26", ("00", "com.alipayplus")))
    broken = code[:-4] + ("0000" if code[-4:] != "0000" else "1111")
    prefix = rule("PREFIX", prefix="000201", action=open_url("USE_DIRECTLY"), priority=20000)
    assert ident(code, ALIPAYPLUS, prefix).post_code_match_action_type == "DECODE"
    result = ident(broken, ALIPAYPLUS, prefix)
    assert result.post_code_match_action_type == "OPEN_URL"
    assert result.redirect_url == broken


def test_all_restrictions_must_hold_in_the_same_template():
    r = rule(
        "EMVCO",
        emvMatchRules=[
            {"extendedMerchantTag": "00", "extendedMerchantValue": "A0000006150001"},
            {"extendedMerchantTag": "01", "extendedMerchantValue": "R<5641\\d{2}|8900\\d{2}>"},
        ],
    )
    together = emv(merchant("26", ("00", "A0000006150001"), ("01", "564169")))
    split = emv(merchant("26", ("00", "A0000006150001")), merchant("27", ("01", "564169")))
    assert ident(together, r).is_supported
    assert not ident(split, r).is_supported


def test_repeated_sub_tag_last_one_wins():
    code = emv(("26", "0007other.x0014com.alipayplus"))
    assert ident(code, ALIPAYPLUS).is_supported
    code = emv(("26", "0014com.alipayplus0007other.x"))
    assert not ident(code, ALIPAYPLUS).is_supported


def test_invalid_template_is_skipped():
    code = emv(("26", "0099com.alipayplus"), merchant("27", ("00", "com.alipayplus")))
    assert ident(code, ALIPAYPLUS).is_supported
    assert not ident(emv(("26", "0099com.alipayplus")), ALIPAYPLUS).is_supported


def test_primitive_mai_rule_only_needs_the_tag():
    r = rule("EMVCO", emvMatchRules=[{"primitiveMerchant": True, "primitiveMerchantTag": "15"}])
    assert ident(emv(("15", "anything at all")), r).is_supported
    assert not ident(emv(("16", "anything at all")), r).is_supported


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("com.alipayplus", "com.alipayplus", True),
        ("com.alipayplus", "COM.ALIPAYPLUS", False),  # plain text is exact, case-sensitive
        ("S<com.>", "com.alipayplus", True),
        ("s<com.>", "com.alipayplus", True),  # the mode letter ignores case
        ("S<plus>", "com.alipayplus", False),
        ("C<alipay>", "com.alipayplus", True),
        ("c<ALIPAY>", "com.alipayplus", False),
        ("R<com\\.ali.*>", "com.alipayplus", True),
        ("R<ali.*>", "com.alipayplus", False),  # whole-value match
        ("N<NOT_NULL>", "x", True),
        ("n<NOT_NULL>", "x", True),
        ("N<NULL>", "x", False),
        ("X<abc>", "X<abc>", True),  # an unknown mode letter is plain text
    ],
)
def test_value_mini_language_on_a_merchant_sub_tag(pattern, value, expected):
    r = rule(
        "EMVCO", emvMatchRules=[{"extendedMerchantTag": "01", "extendedMerchantValue": pattern}]
    )
    code = emv(merchant("26", ("00", "id"), ("01", value)))
    assert ident(code, r).is_supported is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [("N<NULL>", True), ("N<NOT_NULL>", False), ("S<>", False), ("R<.*>", False), ("", True)],
)
def test_missing_field_fails_every_mode_but_null(pattern, expected):
    r = rule(
        "EMVCO",
        match_pattern={
            "matcherType": "EMVCO",
            "merchantMaiRestrictions": {"00": "id"},
            "transactionAmount": pattern,
        },
    )
    code = emv(merchant("26", ("00", "id")), *SG_ROOT)  # no tag 54
    assert ident(code, r).is_supported is expected


def _national(poi_value, amount, action):
    return rule(
        "EMVCO",
        action=action,
        emvMatchRules=[{"extendedMerchantTag": "00", "extendedMerchantValue": "ignored"}],
        match_pattern={
            "matcherType": "EMVCO",
            "merchantMaiRestrictions": {"00": "sg.national"},
            "countryCode": "SG",
            "pointOfInitiationMethod": poi_value,
            "transactionAmount": amount,
            "primitiveMai": False,
        },
    )


STATIC = _national("11", "N<NULL>", open_url("USE_DIRECTLY"))
DYNAMIC = _national("12", "N<NOT_NULL>", {"postCodeMatchActionType": "DECODE"})


def test_match_pattern_splits_static_and_dynamic_codes():
    static = emv(merchant("26", ("00", "sg.national")), *SG_ROOT, poi="11")
    dynamic = emv(merchant("26", ("00", "sg.national")), ("54", "12.50"), *SG_ROOT, poi="12")
    assert ident(static, STATIC, DYNAMIC).post_code_match_action_type == "OPEN_URL"
    assert ident(dynamic, STATIC, DYNAMIC).post_code_match_action_type == "DECODE"


def test_country_code_is_exact():
    root = [(t, "sg" if t == "58" else v) for t, v in SG_ROOT]
    code = emv(merchant("26", ("00", "sg.national")), *root, poi="11")
    assert not ident(code, STATIC).is_supported


def test_amount_zero_is_not_zero_point_zero_zero():
    r = rule(
        "EMVCO",
        match_pattern={"merchantMaiRestrictions": {"00": "id"}, "transactionAmount": "0"},
    )
    assert ident(emv(merchant("26", ("00", "id")), ("54", "0")), r).is_supported
    assert not ident(emv(merchant("26", ("00", "id")), ("54", "0.00")), r).is_supported


def test_match_pattern_replaces_code_match_pattern_priority_included():
    # codeMatchPattern says priority 1 and a merchant that is absent; matchPattern wins.
    r = rule(
        "EMVCO",
        priority=1,
        action=open_url("USE_DIRECTLY"),
        emvMatchRules=[{"extendedMerchantTag": "00", "extendedMerchantValue": "absent"}],
        match_pattern={"merchantMaiRestrictions": {"00": "R<.*>"}, "priority": 19000},
    )
    code = emv(merchant("26", ("00", "com.alipayplus")))
    result = ident(code, r, ALIPAYPLUS)
    assert result.post_code_match_action_type == "DECODE"  # ALIPAYPLUS (10000) beats 19000
    assert ident(code, r).post_code_match_action_type == "OPEN_URL"


def test_sub_tags_of_62_and_accurate_tag_rules():
    r = rule(
        "EMVCO",
        match_pattern={
            "merchantMaiRestrictions": {"00": "id"},
            "additionalDataFieldTemplate": {"05": "S<INV>"},
            "accurateTagRules": {"59": "C<LEMAK>"},
        },
    )
    good = emv(merchant("26", ("00", "id")), merchant("62", ("05", "INV-9")), *SG_ROOT)
    bad = emv(merchant("26", ("00", "id")), merchant("62", ("05", "REF-9")), *SG_ROOT)
    assert ident(good, r).is_supported
    assert not ident(bad, r).is_supported


def test_primitive_mai_in_match_pattern():
    r = rule("EMVCO", match_pattern={"primitiveMai": True, "primitiveMaiTag": "15"})
    assert ident(emv(("15", "x"), *SG_ROOT), r).is_supported
    assert not ident(emv(merchant("26", ("00", "id")), *SG_ROOT), r).is_supported


# -- choosing among matches ------------------------------------------------------------------


def test_lowest_priority_wins_and_missing_means_10000():
    broad = rule("PREFIX", prefix="2816", priority=9999, action=open_url("USE_DIRECTLY"))
    default = rule("PREFIX", prefix="28166604")
    assert ident("28166604x", default, broad).post_code_match_action_type == "OPEN_URL"
    broad = rule("PREFIX", prefix="2816", priority=10001, action=open_url("USE_DIRECTLY"))
    assert ident("28166604x", broad, default).post_code_match_action_type == "DECODE"


def test_ties_go_to_the_first_listed_rule_not_the_longest_prefix():
    short = rule("PREFIX", prefix="2816", action=open_url("USE_DIRECTLY"))
    long = rule("PREFIX", prefix="28166604")
    assert ident("28166604x", short, long).post_code_match_action_type == "OPEN_URL"
    assert ident("28166604x", long, short).post_code_match_action_type == "DECODE"


def test_winner_is_chosen_before_its_url_is_built():
    failing = rule(
        "PREFIX",
        prefix="0002",
        priority=1,
        action=open_url("EXTRACT_URL_FROM_EMVCODE", emvUrlTag="merchantTag.05"),
    )
    code = emv(merchant("26", ("00", "com.alipayplus")))
    result = ident(code, failing, ALIPAYPLUS)
    assert result.is_supported is False  # no fall back to the DECODE rule
    assert result.result == SUCCESS
    assert result.ac_decode_config is None


# -- OPEN_URL --------------------------------------------------------------------------------


def test_use_directly_returns_the_code_untrimmed_and_default_user_agent():
    r = rule("PREFIX", prefix="https://entry.", action=open_url("USE_DIRECTLY"))
    result = ident("https://entry.example/p?q=1 ", r)
    assert result.to_dict() == {
        "isSupported": True,
        "postCodeMatchActionType": "OPEN_URL",
        "codeValue": None,
        "redirectUrl": "https://entry.example/p?q=1 ",
        "userAgent": "AlipayConnect",
        "acDecodeConfig": "",
        "result": SUCCESS,
    }


def test_user_agent_comes_from_the_rule():
    r = rule(
        "PREFIX", prefix="x", action=open_url("USE_DIRECTLY", userAgent="AlipayConnect / AliApp")
    )
    assert ident("xyz", r).user_agent == "AlipayConnect / AliApp"


def test_construct_dynamic_url_encodes_like_java_then_percent_20():
    r = rule(
        "PREFIX",
        prefix="ENTRY",
        action=open_url(
            "CONSTRUCT_DYNAMIC_URL",
            dynamicUrlExpression="https://e.example/p?c=${codeValue}&i=${issuer}",
        ),
    )
    result = ident("ENTRY a+b&c=d/é~", r, client_id="SANDBOX_MPP 1")
    assert result.redirect_url == (
        "https://e.example/p?c=ENTRY%20a%2Bb%26c%3Dd%2F%C3%A9%7E&i=SANDBOX_MPP 1"
    )


def test_construct_dynamic_url_without_client_id_for_issuer_is_unsupported():
    r = rule(
        "PREFIX",
        prefix="E",
        action=open_url("CONSTRUCT_DYNAMIC_URL", dynamicUrlExpression="https://e/?i=${issuer}"),
    )
    assert not ident("E1", r, client_id=None).is_supported
    assert ident("E1", r, client_id="C").redirect_url == "https://e/?i=C"


def test_construct_dynamic_url_without_expression_is_unsupported():
    r = rule("PREFIX", prefix="E", action=open_url("CONSTRUCT_DYNAMIC_URL"))
    assert not ident("E1", r).is_supported


def test_dynamic_url_params_fill_remaining_placeholders():
    expression = "https://e.example/p?r=${region}&m=${merchant}&s=${slice}&c=${codeValue}"
    params = {"region": "R<ENTRY-([A-Z]{2})-.*>", "merchant": "E<59>", "slice": "L<0,5>"}
    r = rule(
        "REGEX",
        regex="ENTRY-.*",
        action=open_url("CONSTRUCT_DYNAMIC_URL", dynamicUrlExpression=expression),
        match_result={"routerType": "AC_URL", "dynamicUrlParams": json.dumps(params)},
    )
    assert not ident("ENTRY-SG-1", r).is_supported  # E<59> needs an EMVCo code
    params["merchant"] = "L<6>"
    r = rule(
        "REGEX",
        regex="ENTRY-.*",
        action=open_url("CONSTRUCT_DYNAMIC_URL", dynamicUrlExpression=expression),
        match_result={"dynamicUrlParams": json.dumps(params)},
    )
    assert ident("ENTRY-SG-1 x", r).redirect_url == (
        "https://e.example/p?r=SG&m=SG-1%20x&s=ENTRY&c=ENTRY-SG-1%20x"
    )


def test_dynamic_url_param_emv_tag():
    r = rule(
        "EMVCO",
        action=open_url("CONSTRUCT_DYNAMIC_URL", dynamicUrlExpression="https://e/?n=${name}"),
        emvMatchRules=[{"extendedMerchantTag": "00", "extendedMerchantValue": "id"}],
        match_result={"dynamicUrlParams": {"name": "E<59>"}},
    )
    code = emv(merchant("26", ("00", "id")), *SG_ROOT)
    assert ident(code, r).redirect_url == "https://e/?n=NASI%20LEMAK"


def test_dynamic_url_param_out_of_range_is_unsupported():
    r = rule(
        "PREFIX",
        prefix="E",
        action=open_url("CONSTRUCT_DYNAMIC_URL", dynamicUrlExpression="https://e/?s=${s}"),
        match_result={"dynamicUrlParams": {"s": "L<0,50>"}},
    )
    assert not ident("E1", r).is_supported


EXTRACT = rule(
    "EMVCO",
    action=open_url("EXTRACT_URL_FROM_EMVCODE", emvUrlTag="merchantTag.03"),
    match_pattern={"merchantMaiRestrictions": {"00": "A9", "02": "CsB"}},
)


def test_extract_url_from_the_first_template_that_satisfies_the_rule():
    code = emv(
        merchant("26", ("00", "A9"), ("02", "other"), ("03", "https://wrong.example/")),
        merchant("27", ("00", "A9"), ("02", "CsB"), ("03", "pay:HTTPS://right.example/x")),
        merchant("80", ("00", "A9"), ("02", "CsB"), ("03", "https://later.example/")),
    )
    result = ident(code, EXTRACT)
    assert result.redirect_url == "HTTPS://right.example/x"
    assert result.user_agent == "AlipayConnect"


def test_extract_url_failures_are_unsupported():
    missing = emv(merchant("26", ("00", "A9"), ("02", "CsB")))
    no_http = emv(merchant("26", ("00", "A9"), ("02", "CsB"), ("03", "ftp://x")))
    assert not ident(missing, EXTRACT).is_supported
    assert not ident(no_http, EXTRACT).is_supported


# -- untrusted rules -------------------------------------------------------------------------


def _untrusted(version=None):
    match_result = {"routerType": "AC_CODE", "trust": "N"}
    if version:
        match_result["nonSdkJarSupportVersion"] = version
    return rule("PREFIX", prefix="28166604", match_result=match_result)


def test_untrusted_rules_are_trusted_by_default():
    assert ident("28166604x", _untrusted()).is_supported


def test_untrusted_rules_can_be_rejected():
    assert not ident("28166604x", _untrusted(), untrusted="reject").is_supported
    assert not ident("28166604x", _untrusted("1.2.1.20250101"), untrusted="reject").is_supported
    assert not ident("28166604x", _untrusted("1.2.x"), untrusted="reject").is_supported
    # an SDK at least as new as nonSdkJarSupportVersion decides locally
    assert ident("28166604x", _untrusted("1.2.1.20240123"), untrusted="reject").is_supported
    assert ident("28166604x", _untrusted("1.2.1.20240506"), untrusted="reject").is_supported


def test_untrusted_rules_can_be_sent_to_a_stand_in_for_remote_identify():
    calls = []

    def remote(code, client_id, compiled):
        calls.append((code, client_id, compiled.index))
        return None

    assert not ident("28166604x", _untrusted(), untrusted=remote).is_supported
    assert calls == [("28166604x", "CLIENT_1", 0)]


# -- CodeIdentifier --------------------------------------------------------------------------


def test_code_identifier_from_a_body_a_file_and_a_rule_set(tmp_path):
    rules_body = body(rule("PREFIX", prefix="28166604"))
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules_body))
    for source in (rules_body, str(path), path, RuleSet.from_body(rules_body)):
        identifier = CodeIdentifier(source, client_id="C")
        assert identifier.identify_code("28166604x").is_supported
        assert identifier.rules.version == "v1"


@pytest.mark.parametrize(
    ("bad_rule", "message"),
    [
        (rule("FUZZY", prefix="x"), "matchMethod 'FUZZY'"),
        (rule("PREFIX", prefix=""), "without a prefix"),
        (rule("PREFIX", prefix="x", action={"postCodeMatchActionType": "SHOW"}), "SHOW"),
        (rule("PREFIX", prefix="x", priority="high"), "priority"),
        ({**rule("PREFIX", prefix="x"), "extendInfo": "{not json"}, "extendInfo"),
        (
            rule(
                "EMVCO", emvMatchRules=[{"primitiveMerchant": True, "primitiveMerchantTag": True}]
            ),
            "tag",
        ),
        (rule("EMVCO", match_pattern={"accurateTagRules": {"5": "x"}}), "accurateTagRules"),
        (rule("EMVCO", match_pattern={"merchantMaiRestrictions": {"00": "R<(>"}}), "pattern"),
        ("not an object", "object"),
    ],
)
def test_rule_problems_name_the_rule_and_the_reason(bad_rule, message):
    rules = RuleSet.from_body(body(rule("PREFIX", prefix="28166604"), bad_rule))
    assert len(rules.rules) == 1
    assert len(rules.problems) == 1
    assert rules.problems[0].startswith("codeRules[1]: ")
    assert message in rules.problems[0]


def test_accurate_tag_rules_as_json_text():
    r = rule("EMVCO", match_pattern={"accurateTagRules": json.dumps({"59": "S<NASI>"})})
    assert ident(emv(merchant("26", ("00", "id")), *SG_ROOT), r).is_supported
