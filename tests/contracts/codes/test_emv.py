"""EMVCo CRC and TLV parsing, as the server SDK decides whether a code is EMVCo at all."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.codes.emv import (
    EmvError,
    build_emv,
    crc_hex,
    has_valid_crc,
    parse_emv,
    parse_tlv,
    try_parse_emv,
)

from .helpers import crc16_ccitt_false, emv, merchant, tlv, with_crc

# The worked example of the EMVCo QR Code Specification for Payment Systems (Merchant-Presented
# Mode), with its published CRC A13A; it includes a template (64) in Chinese characters.
EMVCO_SAMPLE = (
    "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN"
    "5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603"
    "***0708A60086670902ME91320016A0112233449988770708123456786304A13A"
)


def test_test_helper_crc_matches_the_published_emvco_sample():
    body = EMVCO_SAMPLE[:-4]
    assert f"{crc16_ccitt_false(body.encode('utf-8')):04X}" == "A13A"
    assert crc16_ccitt_false(b"123456789") == 0x29B1  # the CRC catalogue's check value


def test_library_crc_agrees_with_the_sample_and_parses_it():
    assert crc_hex(EMVCO_SAMPLE[:-4]) == "A13A"
    code = parse_emv(EMVCO_SAMPLE)
    assert code.get("59") == "BEST TRANSPORT"
    assert code.get("54") == "23.72"
    assert code.template("64") == {"00": "ZH", "01": "最佳运输", "02": "北京"}
    assert [tag for tag, _ in code.merchant_templates()] == ["29", "31", "91"]


@settings(max_examples=100)
@given(st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=6))
def test_library_crc_agrees_with_the_reference_crc(values):
    body = tlv([("00", "01"), *((f"{60 + i}", v) for i, v in enumerate(values))]) + "6304"
    assert crc_hex(body) == f"{crc16_ccitt_false(body.encode('utf-8')):04X}"


def test_crc_is_compared_ignoring_case():
    code = emv(merchant("26", ("00", "com.alipayplus")))
    assert code[-4:].upper() == code[-4:]
    lower = code[:-4] + code[-4:].lower()
    assert has_valid_crc(lower)
    assert try_parse_emv(lower) is not None


def test_a_wrong_crc_is_not_emvco():
    code = emv(merchant("26", ("00", "com.alipayplus")))
    broken = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert try_parse_emv(broken) is None
    with pytest.raises(EmvError, match="CRC"):
        parse_emv(broken)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (tlv([("01", "12"), ("00", "01")]), "does not start with 00 02"),
        (tlv([("00", "1"), ("01", "12")]), "tag 00 with length 01"),
        ("000201010212" + "2605abc", "overrun"),
        ("000201010212" + "2600", "zero length"),
        ("000201010212" + "2A03abc", "non-digit tag"),
        ("000201010212" + "26x3abc", "non-digit length"),
        ("000201010212" + "26", "truncated header"),
    ],
)
def test_payloads_that_do_not_parse_completely_are_not_emvco(body, why):
    assert try_parse_emv(with_crc(body)) is None, why


def test_repeated_tag_last_occurrence_wins():
    code = parse_emv(with_crc(tlv([("00", "01"), ("58", "MY"), ("58", "SG")])))
    assert code.get("58") == "SG"
    assert parse_tlv(tlv([("00", "a"), ("00", "b")])) == {"00": "b"}


def test_invalid_template_is_skipped_but_the_payload_still_parses():
    code = parse_emv(emv(("26", "0099short"), merchant("27", ("00", "com.alipayplus"))))
    assert code.template("26") is None
    assert [tag for tag, _ in code.merchant_templates()] == ["27"]


def test_template_order_is_26_to_51_then_80_to_99():
    code = parse_emv(
        emv(
            merchant("80", ("00", "eighty")),
            merchant("51", ("00", "fifty-one")),
            merchant("26", ("00", "twenty-six")),
            merchant("62", ("05", "not a merchant account")),
            merchant("15", ("00", "primitive range")),
        )
    )
    assert [tag for tag, _ in code.merchant_templates()] == ["26", "51", "80"]


def test_lookup_by_path():
    code = parse_emv(emv(merchant("62", ("05", "INV-1")), ("59", "SHOP")))
    assert code.lookup("59") == "SHOP"
    assert code.lookup("62.05") == "INV-1"
    assert code.lookup("62.07") is None
    assert code.lookup("61") is None


def test_lengths_count_utf16_units_like_java():
    # An emoji is one Python character but two Java chars: EMVCo length 02 for Java.
    body = "0002010102115902\U0001f600" + "6002SG"
    code = with_crc(body)
    parsed = parse_emv(code)
    assert parsed.get("59") == "\U0001f600"
    assert parsed.get("60") == "SG"


def test_build_emv_round_trips():
    code = build_emv([("00", "01"), ("01", "12"), ("26", tlv([("00", "com.alipayplus")]))])
    assert code.endswith(f"{crc16_ccitt_false(code[:-4].encode()):04X}")
    assert parse_emv(code).template("26") == {"00": "com.alipayplus"}
