"""contracts.signing: content to sign, keys in every format, times, the Signature header."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import signing
from contracts.signing import SignatureError, SignatureHeader

NOTIFY = "/aps/api/v1/payments/notifyPayment"
UIP = "/aps/api/v1/payments/userInitiatedPay"
CLIENT = "SANDBOX_ABC"
TIME = "2025-01-01T12:00:00+08:00"
BODY = b'{"paymentRequestId":"P1"}'


@pytest.fixture(scope="module")
def key() -> signing.RSAPrivateKey:
    return signing.generate_private_key()


@pytest.fixture(scope="module")
def other_key() -> signing.RSAPrivateKey:
    return signing.generate_private_key()


def _private_texts(key: signing.RSAPrivateKey) -> dict[str, str]:
    def pem(fmt: serialization.PrivateFormat) -> str:
        return key.private_bytes(
            serialization.Encoding.PEM, fmt, serialization.NoEncryption()
        ).decode()

    def b64(fmt: serialization.PrivateFormat) -> str:
        der = key.private_bytes(serialization.Encoding.DER, fmt, serialization.NoEncryption())
        return base64.b64encode(der).decode()

    pkcs8_b64 = b64(serialization.PrivateFormat.PKCS8)
    return {
        "pkcs1-pem": pem(serialization.PrivateFormat.TraditionalOpenSSL),
        "pkcs8-pem": pem(serialization.PrivateFormat.PKCS8),
        "pkcs1-base64": b64(serialization.PrivateFormat.TraditionalOpenSSL),
        "pkcs8-base64": pkcs8_b64,
        "pkcs8-base64-wrapped-64": "\n".join(
            pkcs8_b64[i : i + 64] for i in range(0, len(pkcs8_b64), 64)
        ),
        "pkcs8-pem-escaped-newlines": pem(serialization.PrivateFormat.PKCS8).replace("\n", "\\n"),
        "pkcs8-pem-bytes-with-spaces": "  " + pem(serialization.PrivateFormat.PKCS8) + "\n\n",
        "ours-private_key_base64": signing.private_key_base64(key),
        "ours-private_key_pem": signing.private_key_pem(key),
        "ours-private_key_pem-pkcs1": signing.private_key_pem(key, pkcs1=True),
    }


def _public_texts(key: signing.RSAPrivateKey) -> dict[str, str]:
    pub = key.public_key()

    def enc(encoding: serialization.Encoding, fmt: serialization.PublicFormat) -> bytes:
        return pub.public_bytes(encoding, fmt)

    spki, pkcs1 = serialization.PublicFormat.SubjectPublicKeyInfo, serialization.PublicFormat.PKCS1
    der, pem = serialization.Encoding.DER, serialization.Encoding.PEM
    return {
        "spki-pem": enc(pem, spki).decode(),
        "spki-base64": base64.b64encode(enc(der, spki)).decode(),
        "pkcs1-pem": enc(pem, pkcs1).decode(),
        "pkcs1-base64": base64.b64encode(enc(der, pkcs1)).decode(),
        "ours-public_key_base64": signing.public_key_base64(key),
        "ours-public_key_pem": signing.public_key_pem(pub),
    }


# ---------------------------------------------------------------------------------------------
# content to sign


def test_worked_example_content_to_sign_is_byte_exact() -> None:
    expected = (
        b"POST /aps/api/v1/payments/notifyPayment\n"
        b'SANDBOX_ABC.2025-01-01T12:00:00+08:00.{"paymentRequestId":"P1"}'
    )
    assert signing.content_to_sign("POST", NOTIFY, CLIENT, TIME, BODY) == expected


def test_content_to_sign_keeps_the_body_bytes_untouched() -> None:
    body = '{\n   "customerId": "顧客 ü",\n   "codeValue": "x"\n}\n'.encode()
    content = signing.content_to_sign("POST", UIP, CLIENT, TIME, body)
    assert content.endswith(b"." + body)
    assert signing.content_to_sign("POST", UIP, CLIENT, TIME, body.decode()) == content


# ---------------------------------------------------------------------------------------------
# keys


def test_every_private_and_public_key_format_round_trips(key: signing.RSAPrivateKey) -> None:
    publics = {name: signing.load_public_key(text) for name, text in _public_texts(key).items()}
    for priv_name, priv_text in _private_texts(key).items():
        loaded = signing.load_private_key(priv_text)
        value = signing.sign(loaded, "POST", NOTIFY, CLIENT, TIME, BODY)
        for pub_name, pub in publics.items():
            assert signing.verify(pub, "POST", NOTIFY, CLIENT, TIME, BODY, value), (
                priv_name,
                pub_name,
            )


def test_keys_load_from_bytes_too(key: signing.RSAPrivateKey) -> None:
    texts = _private_texts(key)
    loaded = signing.load_private_key(texts["pkcs1-pem"].encode())
    pub = signing.load_public_key(_public_texts(key)["spki-base64"].encode())
    assert signing.verify(
        pub,
        "POST",
        UIP,
        CLIENT,
        TIME,
        b"{}",
        signing.sign(loaded, "POST", UIP, CLIENT, TIME, b"{}"),
    )


def test_exports_are_the_sdk_formats(key: signing.RSAPrivateKey) -> None:
    der = base64.b64decode(signing.private_key_base64(key))
    # PKCS#8 wraps the key in a PrivateKeyInfo carrying the rsaEncryption OID 1.2.840.113549.1.1.1
    assert bytes.fromhex("2a864886f70d010101") in der[:32]
    serialization.load_der_private_key(der, password=None)
    spki = base64.b64decode(signing.public_key_base64(key))
    assert bytes.fromhex("2a864886f70d010101") in spki[:32]
    assert signing.public_key_pem(key).startswith("-----BEGIN PUBLIC KEY-----\n")
    assert signing.private_key_pem(key).startswith("-----BEGIN PRIVATE KEY-----\n")
    assert signing.private_key_pem(key, pkcs1=True).startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert key.key_size == 2048


def test_loading_the_same_text_again_is_cached(key: signing.RSAPrivateKey) -> None:
    text = signing.private_key_base64(key)
    assert signing.load_private_key(text) is signing.load_private_key(text)
    pub = signing.public_key_base64(key)
    assert signing.load_public_key(pub) is signing.load_public_key(pub)


def test_sign_and_verify_accept_key_text(key: signing.RSAPrivateKey) -> None:
    value = signing.sign(signing.private_key_base64(key), "POST", UIP, CLIENT, TIME, BODY)
    assert signing.verify(signing.public_key_pem(key), "POST", UIP, CLIENT, TIME, BODY, value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("not a key!", "neither PEM"),
        (base64.b64encode(b"hello world, not DER").decode(), "could not read the private key"),
        ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "could not read"),
    ],
)
def test_bad_private_key_text_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(signing.KeyFormatError, match=message):
        signing.load_private_key(text)


def test_key_kind_mistakes_are_named(key: signing.RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match="this is a public key"):
        signing.load_private_key(signing.public_key_pem(key))
    with pytest.raises(ValueError, match="this is a private key"):
        signing.load_public_key(signing.private_key_pem(key))
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_pem = ec_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(signing.KeyFormatError, match="not RSA"):
        signing.load_private_key(ec_pem)
    ec_pub = ec_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(signing.KeyFormatError, match="not RSA"):
        signing.load_public_key(ec_pub)


# ---------------------------------------------------------------------------------------------
# times

TIME_FORMS = {
    "doc +08:00": ("2019-05-28T12:12:12+08:00", datetime(2019, 5, 28, 4, 12, 12, tzinfo=UTC)),
    "python sdk +00:00": (
        "2026-11-28T05:23:44+00:00",
        datetime(2026, 11, 28, 5, 23, 44, tzinfo=UTC),
    ),
    "php +0000": ("2026-11-28T05:23:44+0000", datetime(2026, 11, 28, 5, 23, 44, tzinfo=UTC)),
    "dotnet 7 digits Z": (
        "2026-11-28T05:23:44.1234567Z",
        datetime(2026, 11, 28, 5, 23, 44, 123456, tzinfo=UTC),
    ),
    "doc 2 digits Z": (
        "2025-02-20T08:51:49.09Z",
        datetime(2025, 2, 20, 8, 51, 49, 90000, tzinfo=UTC),
    ),
    "1 digit": ("2025-02-20T08:51:49.5Z", datetime(2025, 2, 20, 8, 51, 49, 500000, tzinfo=UTC)),
    "server sdk millis +08:00": (
        "2026-11-28T13:23:44.000+08:00",
        datetime(2026, 11, 28, 5, 23, 44, tzinfo=UTC),
    ),
    "6 digits": (
        "2026-11-28T05:23:44.654321+00:00",
        datetime(2026, 11, 28, 5, 23, 44, 654321, tzinfo=UTC),
    ),
    "negative offset": ("2019-04-04T12:08:56-05:30", datetime(2019, 4, 4, 17, 38, 56, tzinfo=UTC)),
    "half-hour offset": ("2019-04-04T12:08:56+05:30", datetime(2019, 4, 4, 6, 38, 56, tzinfo=UTC)),
    "java/go epoch millis": ("1764307424000", datetime(2025, 11, 28, 5, 23, 44, tzinfo=UTC)),
    "epoch millis with ms": (
        "1764307424123",
        datetime(2025, 11, 28, 5, 23, 44, 123000, tzinfo=UTC),
    ),
}


@pytest.mark.parametrize("name", sorted(TIME_FORMS))
def test_parse_time_reads_every_sdk_form(name: str) -> None:
    text, instant = TIME_FORMS[name]
    parsed = signing.parse_time(text)
    assert parsed.tzinfo is not None
    assert parsed == instant


def test_parse_time_keeps_the_senders_offset() -> None:
    parsed = signing.parse_time("2025-01-01T12:00:00+08:00")
    assert parsed.utcoffset() == timedelta(hours=8)
    assert signing.format_time(parsed) == "2025-01-01T12:00:00+08:00"


@pytest.mark.parametrize("name", sorted(TIME_FORMS))
def test_signatures_round_trip_with_every_time_form(name: str, key: signing.RSAPrivateKey) -> None:
    text = TIME_FORMS[name][0]
    value = signing.sign(key, "POST", NOTIFY, CLIENT, text, BODY)
    assert signing.verify(key.public_key(), "POST", NOTIFY, CLIENT, text, BODY, value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2025-01-01T12:00:00", "no UTC offset"),
        ("2025-01-01T12:00:00.123", "no UTC offset"),
        ("2025-01-01", "neither ISO 8601"),
        ("yesterday", "neither ISO 8601"),
        ("", "neither ISO 8601"),
        ("1764307424", "neither ISO 8601"),  # epoch seconds: no SDK sends them
        ("2025-01-01T12:00:00+25:00", "impossible UTC offset"),
        ("2025-02-30T12:00:00Z", "not a real date"),
        ("2025-01-01T24:00:00Z", "not a real date"),
        ("2025-01-01 12:00:00Z", "neither ISO 8601"),
        ("2025-01-01T12:00:00+08", "neither ISO 8601"),
    ],
)
def test_parse_time_rejects_other_forms(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        signing.parse_time(text)


def test_format_time() -> None:
    assert (
        signing.format_time(datetime(2025, 1, 1, 4, 0, tzinfo=UTC)) == "2025-01-01T04:00:00+00:00"
    )
    east = timezone(timedelta(hours=8))
    assert signing.format_time(datetime(2025, 1, 1, 12, 0, 0, 999, tzinfo=east)) == TIME
    with pytest.raises(ValueError, match="aware"):
        signing.format_time(datetime(2025, 1, 1, 12, 0))


@settings(max_examples=100, deadline=None)
@given(
    st.datetimes(
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-3, minutes=-30))]
        )
    )
)
def test_format_then_parse_time_is_the_same_second(dt: datetime) -> None:
    assert signing.parse_time(signing.format_time(dt)) == dt.replace(microsecond=0)


# ---------------------------------------------------------------------------------------------
# tampering


def test_any_change_to_a_signed_part_fails(
    key: signing.RSAPrivateKey, other_key: signing.RSAPrivateKey
) -> None:
    pub = key.public_key()
    value = signing.sign(key, "POST", NOTIFY, CLIENT, TIME, BODY)
    assert signing.verify(pub, "POST", NOTIFY, CLIENT, TIME, BODY, value)
    assert not signing.verify(
        pub, "POST", NOTIFY, CLIENT, TIME, b'{"paymentRequestId":"P2"}', value
    )
    assert not signing.verify(
        pub, "POST", NOTIFY, CLIENT, TIME, b'{"paymentRequestId": "P1"}', value
    )
    assert not signing.verify(pub, "POST", NOTIFY, CLIENT, TIME, BODY + b"\n", value)
    assert not signing.verify(pub, "POST", UIP, CLIENT, TIME, BODY, value)
    assert not signing.verify(pub, "POST", NOTIFY, "SANDBOX_ABD", TIME, BODY, value)
    assert not signing.verify(pub, "POST", NOTIFY, CLIENT, "2025-01-01T12:00:01+08:00", BODY, value)
    # same instant, different text: the time is signed byte-for-byte, not as an instant
    assert not signing.verify(pub, "POST", NOTIFY, CLIENT, "2025-01-01T04:00:00Z", BODY, value)
    assert not signing.verify(pub, "GET", NOTIFY, CLIENT, TIME, BODY, value)
    assert not signing.verify(other_key.public_key(), "POST", NOTIFY, CLIENT, TIME, BODY, value)


def test_broken_signature_values_just_fail(key: signing.RSAPrivateKey) -> None:
    pub = key.public_key()
    value = signing.sign(key, "POST", NOTIFY, CLIENT, TIME, BODY)
    raw = bytearray(base64.b64decode(value))
    raw[10] ^= 1
    for broken in [
        base64.b64encode(bytes(raw)).decode(),
        value[:-8],
        "",
        "not base64 at all",
        "@@@@",
    ]:
        assert not signing.verify(pub, "POST", NOTIFY, CLIENT, TIME, BODY, broken)


def test_verify_also_takes_the_url_encoded_value(key: signing.RSAPrivateKey) -> None:
    value = signing.sign(key, "POST", NOTIFY, CLIENT, TIME, BODY)
    encoded = signing.format_signature_header(value).split("signature=")[1]
    assert signing.verify(key.public_key(), "POST", NOTIFY, CLIENT, TIME, BODY, encoded)


@settings(max_examples=60, deadline=None)
@given(
    body=st.binary(max_size=300) | st.text(max_size=200).map(str.encode),
    client_id=st.from_regex(r"[A-Za-z0-9_]{1,64}", fullmatch=True),
    path=st.from_regex(r"/aps/api/v1/[a-zA-Z]{1,20}/[a-zA-Z]{1,30}", fullmatch=True),
)
def test_sign_header_parse_verify_round_trip(
    key: signing.RSAPrivateKey, body: bytes, client_id: str, path: str
) -> None:
    value = signing.sign(key, "POST", path, client_id, TIME, body)
    parsed = signing.parse_signature_header(signing.format_signature_header(value, "2"))
    assert parsed == SignatureHeader("RSA256", "2", value)
    assert signing.verify(key.public_key(), "POST", path, client_id, TIME, body, parsed.signature)
    assert not signing.verify(
        key.public_key(), "POST", path, client_id, TIME, body + b"x", parsed.signature
    )


# ---------------------------------------------------------------------------------------------
# the Signature header

# raw standard base64 with every special character (+ / and = padding)
SIG = base64.b64encode(bytes(range(256))[::-1] + bytes(range(256))).decode()[:-4] + "+/8="
assert {"+", "/", "="} <= set(SIG) and len(SIG) % 4 == 0


def test_format_signature_header_is_what_javas_urlencoder_writes() -> None:
    header = signing.format_signature_header("ab+/cd==")
    assert header == "algorithm=RSA256,keyVersion=1,signature=ab%2B%2Fcd%3D%3D"
    assert signing.format_signature_header("ab+/cd==", key_version="2").startswith(
        "algorithm=RSA256,keyVersion=2,signature="
    )


ENCODED_UPPER = SIG.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
ENCODED_LOWER = SIG.replace("+", "%2b").replace("/", "%2f").replace("=", "%3d")


@pytest.mark.parametrize(
    "header",
    [
        f"algorithm=RSA256,keyVersion=1,signature={ENCODED_UPPER}",
        f"algorithm=RSA256, keyVersion=1, signature={ENCODED_UPPER}",
        f"algorithm=RSA256 , keyVersion=1 ,  signature={ENCODED_UPPER} ",
        f"signature={ENCODED_UPPER},algorithm=RSA256,keyVersion=1",
        f"keyVersion=1, signature={ENCODED_UPPER}, algorithm=RSA256",
        f"algorithm=RSA256,keyVersion=1,signature={ENCODED_LOWER}",
        f"algorithm=rsa256,keyversion=1,signature={ENCODED_LOWER}",
        f"algorithm=RSA256,signature={ENCODED_UPPER}",
        f"algorithm=RSA256,keyVersion=1,signature={ENCODED_UPPER},",
    ],
)
def test_parse_signature_header_accepts_every_variant(header: str) -> None:
    assert signing.parse_signature_header(header) == SignatureHeader("RSA256", "1", SIG)


# raw standard base64 without '+' reads the same once URL-decoded, as it does in every SDK
RAW_NO_PLUS = SIG.replace("+", "A")


@pytest.mark.parametrize("sep", [",", ", "])
def test_raw_base64_without_plus_decodes_to_itself(sep: str) -> None:
    header = f"algorithm=RSA256{sep}keyVersion=1{sep}signature={RAW_NO_PLUS}"
    assert signing.parse_signature_header(header) == SignatureHeader("RSA256", "1", RAW_NO_PLUS)


@pytest.mark.parametrize("sep", [",", ", "])
def test_raw_base64_with_plus_must_be_url_encoded(sep: str) -> None:
    header = f"algorithm=RSA256{sep}keyVersion=1{sep}signature={SIG}"
    with pytest.raises(SignatureError, match="must be URL-encoded"):
        signing.parse_signature_header(header)
    parsed = signing.parse_signature_header(header, lenient=True)
    assert (parsed.signature, parsed.key_version) == (SIG, "1")
    assert parsed.warning is not None and "not URL-encoded" in parsed.warning


def test_a_url_encoded_header_has_no_warning() -> None:
    header = f"algorithm=RSA256,keyVersion=1,signature={ENCODED_UPPER}"
    assert signing.parse_signature_header(header, lenient=True).warning is None


def test_parse_signature_header_keeps_the_key_version() -> None:
    parsed = signing.parse_signature_header(
        f"algorithm=RSA256, keyVersion=2, signature={ENCODED_UPPER}"
    )
    assert parsed.key_version == "2"
    with pytest.raises(AttributeError):
        parsed.key_version = "3"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("algorithm=RSA256,keyVersion=1", "no 'signature=' part"),
        (f"keyVersion=1,signature={ENCODED_UPPER}", "no 'algorithm=' part"),
        (f"algorithm=RSA,keyVersion=1,signature={ENCODED_UPPER}", "only RSA256"),
        (f"algorithm=RSA256,keyVersion=1,{ENCODED_UPPER}", "not name=value"),
        (f"algorithm=RSA256;keyVersion=1;signature={ENCODED_UPPER}", "commas, not semicolons"),
        (f"algorithm=RSA256,signature={SIG},signature={SIG}", "more than once"),
        ("algorithm=RSA256,keyVersion=1,signature=", "empty 'signature='"),
        ("algorithm=RSA256,keyVersion=,signature=abcd", "empty 'keyVersion='"),
        # the MPP server SDK's placeholder when it fetches code rules
        (
            "algorithm=RSA256, keyVersion=2, signature=testing_signature",
            "'testing_signature' has '-' or '_'",
        ),
        (f"algorithm=RSA256,keyVersion=1,signature={SIG.replace('+', ' ')}", "form-decoded"),
        (f"algorithm=RSA256,keyVersion=1,signature={RAW_NO_PLUS[:-1]}", "not padded base64"),
        (f"algorithm=RSA256,keyVersion=1,signature={RAW_NO_PLUS.rstrip('=')}", "not padded base64"),
        ("algorithm=RSA256,keyVersion=1,signature=ab-_cd", "URL-safe base64"),
        ("algorithm=RSA256,keyVersion=1,signature=ab*cd", "'ab\\*cd' is not base64"),
        ("algorithm=RSA256,keyVersion=1,signature=%ZZ%2B", "not base64"),
    ],
)
def test_parse_signature_header_rejects_malformed(header: str, message: str) -> None:
    with pytest.raises(SignatureError, match=message) as caught:
        signing.parse_signature_header(header)
    assert isinstance(caught.value, ValueError)


def test_lenient_mode_reads_url_safe_unpadded_base64(key: signing.RSAPrivateKey) -> None:
    value = signing.sign(key, "POST", NOTIFY, CLIENT, TIME, BODY)
    urlsafe = base64.urlsafe_b64encode(base64.b64decode(value)).decode().rstrip("=")
    header = f"algorithm=RSA256,keyVersion=1,signature={urlsafe}"
    with pytest.raises(SignatureError, match="URL-safe"):
        signing.parse_signature_header(header)
    lenient = signing.parse_signature_header(header, lenient=True)
    assert lenient.signature == value and lenient.warning is not None
    with pytest.raises(SignatureError, match="not base64"):
        signing.parse_signature_header("algorithm=RSA256,signature=a", lenient=True)


def test_header_given_as_bytes_is_read(key: signing.RSAPrivateKey) -> None:
    value = signing.sign(key, "POST", NOTIFY, CLIENT, TIME, BODY)
    raw = signing.format_signature_header(value).encode()
    assert signing.parse_signature_header(raw).signature == value


# ---------------------------------------------------------------------------------------------
# whole header sets


def test_signed_request_headers_verify(key: signing.RSAPrivateKey) -> None:
    when = datetime(2025, 1, 1, 4, 0, tzinfo=UTC).astimezone(timezone(timedelta(hours=8)))
    headers = signing.signed_request_headers(key, CLIENT, NOTIFY, BODY, when)
    assert set(headers) == {"Content-Type", "Client-Id", "Request-Time", "Signature"}
    assert headers["Request-Time"] == TIME
    assert headers["Client-Id"] == CLIENT
    assert headers["Content-Type"] == "application/json; charset=UTF-8"
    assert headers["Signature"].startswith("algorithm=RSA256,keyVersion=1,signature=")
    parsed = signing.verify_headers(key.public_key(), NOTIFY, headers, BODY)
    assert parsed.key_version == "1"
    lowered = {name.lower(): value for name, value in headers.items()}
    signing.verify_headers(key.public_key(), NOTIFY, lowered, BODY)


def test_signed_response_headers_are_lower_case_and_verify(key: signing.RSAPrivateKey) -> None:
    when = datetime(2025, 1, 1, 4, 0, 5, tzinfo=UTC)
    body = b'{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}'
    headers = signing.signed_response_headers(key, CLIENT, NOTIFY, body, when, key_version="2")
    assert set(headers) == {"content-type", "client-id", "response-time", "signature"}
    assert headers["response-time"] == "2025-01-01T04:00:05+00:00"
    assert headers["signature"].startswith("algorithm=RSA256,keyVersion=2,signature=")
    signing.verify_headers(key.public_key(), NOTIFY, headers, body, time_header="Response-Time")
    with pytest.raises(SignatureError, match="does not verify"):
        signing.verify_headers(key.public_key(), UIP, headers, body, time_header="Response-Time")


def test_signer_is_a_short_way_to_the_same_headers(key: signing.RSAPrivateKey) -> None:
    signer = signing.Signer.from_text(signing.private_key_base64(key), CLIENT, "3")
    when = datetime(2025, 1, 1, 4, 0, tzinfo=UTC)
    assert signer.request_headers(NOTIFY, BODY, when) == signing.signed_request_headers(
        key, CLIENT, NOTIFY, BODY, when, "3"
    )
    assert signer.response_headers(NOTIFY, BODY, when) == signing.signed_response_headers(
        key, CLIENT, NOTIFY, BODY, when, "3"
    )


def test_verify_headers_names_what_is_missing_or_wrong(
    key: signing.RSAPrivateKey, other_key: signing.RSAPrivateKey
) -> None:
    when = datetime(2025, 1, 1, 4, 0, tzinfo=UTC)
    headers = signing.signed_request_headers(key, CLIENT, NOTIFY, BODY, when)
    pub = key.public_key()
    with pytest.raises(SignatureError, match="no Signature header"):
        signing.verify_headers(
            pub, NOTIFY, {k: v for k, v in headers.items() if k != "Signature"}, BODY
        )
    with pytest.raises(SignatureError, match="no Request-Time header"):
        signing.verify_headers(
            pub, NOTIFY, {k: v for k, v in headers.items() if k != "Request-Time"}, BODY
        )
    with pytest.raises(SignatureError, match="no Client-Id header"):
        signing.verify_headers(
            pub, NOTIFY, {k: v for k, v in headers.items() if k != "Client-Id"}, BODY
        )
    with pytest.raises(SignatureError, match="does not verify"):
        signing.verify_headers(other_key.public_key(), NOTIFY, headers, BODY)
    with pytest.raises(SignatureError, match="does not verify"):
        signing.verify_headers(pub, NOTIFY, headers, BODY, client_id="SOMEONE_ELSE")
    with pytest.raises(SignatureError, match="does not verify"):
        signing.verify_headers(pub, NOTIFY, headers, BODY + b" ")


def _signed_with_a_plus(key: signing.RSAPrivateKey) -> tuple[bytes, str]:
    """A body whose signature's base64 contains '+', and that signature (found by trying)."""
    for n in range(200):
        body = b'{"paymentRequestId":"P%d"}' % n
        value = signing.sign(key, "POST", UIP, CLIENT, TIME, body)
        if "+" in value:
            return body, value
    raise AssertionError("no signature with '+' in 200 tries")


def test_a_request_signed_with_raw_base64_plus_is_refused_url_encoded_accepted(
    key: signing.RSAPrivateKey,
) -> None:
    body, value = _signed_with_a_plus(key)
    headers = {"Client-Id": CLIENT, "Request-Time": TIME}
    raw = {**headers, "Signature": f"algorithm=RSA256,keyVersion=1,signature={value}"}
    with pytest.raises(SignatureError, match="must be URL-encoded"):
        signing.verify_headers(key.public_key(), UIP, raw, body)
    assert signing.verify_headers(key.public_key(), UIP, raw, body, lenient=True).warning
    encoded = {**headers, "Signature": signing.format_signature_header(value)}
    parsed = signing.verify_headers(key.public_key(), UIP, encoded, body)
    assert (parsed.signature, parsed.warning) == (value, None)


def test_the_url_encoding_message_fits_in_a_result_message() -> None:
    # A server puts it after a short prefix into resultMessage (max 256 characters).
    from contracts.signing.signature_header import RAW_PLUS_MESSAGE

    assert len(RAW_PLUS_MESSAGE) <= 200 and "must be URL-encoded" in RAW_PLUS_MESSAGE
