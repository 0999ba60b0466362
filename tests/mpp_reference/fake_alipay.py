"""A small scripted Alipay+ for the wallet's own tests: decodes codes it was given, records
notifications, and answers whatever a test scripts (U, F codes, garbage) first."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from flask import Flask, Response, request

from contracts import signing

RULES = {
    "version": "test-1",
    "codeRules": [
        {
            "codeMatchPattern": {
                "matchMethod": "PREFIX",
                "prefix": "https://qr.alipayplus.com/28166613",
            },
            "postCodeMatchAction": {"postCodeMatchActionType": "DECODE"},
        },
        {
            "codeMatchPattern": {"matchMethod": "PREFIX", "prefix": "28166604"},
            "postCodeMatchAction": {"postCodeMatchActionType": "DECODE"},
        },
        {
            "codeMatchPattern": {"matchMethod": "PREFIX", "prefix": "https://entry.example/"},
            "postCodeMatchAction": {
                "postCodeMatchActionType": "OPEN_URL",
                "urlConstructionMethod": "USE_DIRECTLY",
            },
        },
    ],
}


RESPONSE_TIME_FORMATS: dict[str, Callable[[datetime], str]] = {
    "iso": signing.format_time,
    # Java >= 2023-05 and Go: epoch milliseconds
    "epoch_ms": lambda now: str(int(now.timestamp() * 1000)),
    # PHP: +0000
    "php": lambda now: now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
    # .NET: seven fractional digits and Z
    "dotnet": lambda now: now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z"),
    # MPP server SDK: GMT+8 with milliseconds
    "gmt8_ms": lambda now: now.astimezone(timezone(timedelta(hours=8))).isoformat(
        timespec="milliseconds"
    ),
}

LONG_MERCHANT = (
    "東京都渋谷区の老舗コーヒー焙煎所とベーカリー「まるやま珈琲・パン工房」本店（オンラインストア）"
)


def _with_extra(value: Any) -> Any:
    """Unknown fields added to every object (forward compatibility)."""
    if isinstance(value, dict):
        out = {k: _with_extra(v) for k, v in value.items()}
        out["futureField"] = {"addedIn": "v2", "note": "ignore me"}
        return out
    if isinstance(value, list):
        return [_with_extra(v) for v in value]
    return value


def _vary(
    body: dict[str, Any],
    surcharge: int | None = None,
    action_form: dict[str, Any] | None = None,
    rich: bool = False,
    merchant_name: str | None = None,
    extra: bool = False,
) -> None:
    """Apply the legitimate variations Alipay+ may send to a decode answer."""
    pay_to = body["payToAmount"]
    if surcharge is not None:
        body["surchargeInfo"] = {
            "surchargeAmount": {"currency": pay_to["currency"], "value": str(surcharge)},
            "surchargeQuote": {
                "quoteId": "SQ1",
                "quoteCurrencyPair": f"{body['paymentAmount']['currency']}/{pay_to['currency']}",
                "quotePrice": "9.2",
            },
        }
    if action_form is not None:
        body["actionForm"] = action_form
    if merchant_name is not None:
        body["order"]["merchant"]["merchantName"] = merchant_name
    if rich:
        currency = body["paymentAmount"]["currency"]
        body["order"]["env"] = {"terminalType": "WAP", "osType": "IOS", "clientIp": "127.0.0.1"}
        body["order"]["goods"] = [
            {
                "referenceGoodsId": "G1",
                "goodsName": "オーガニックコットンTシャツ（ホワイト・Lサイズ）",
                "goodsQuantity": "2",
                "goodsUnitAmount": {"currency": currency, "value": "500"},
            }
        ]
        body["order"]["buyer"] = {"referenceBuyerId": "B1", "buyerName": {"fullName": "Kim Min-ji"}}
        body["order"]["shipping"] = {
            "shippingName": {"fullName": "김민지"},
            "shippingAddress": {"region": "KR", "city": "Seoul", "address1": "세종대로 110"},
        }
        body["order"]["merchant"]["store"] = {
            "referenceStoreId": "S1",
            "storeName": "Shibuya store",
            "storeMCC": "5651",
        }
    if extra:
        body.update(_with_extra({k: v for k, v in body.items()}))
        body["brandNewTopLevel"] = ["anything", 1, True]


class FakeAlipay:
    """Alipay+ as far as the wallet's unit tests need it."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.private_key = signing.generate_private_key()
        self.public_key_base64 = signing.public_key_base64(self.private_key)
        self.wallet_public_key: Any = None
        self.client_id = ""
        self.base_url = ""  # set once served
        self.slow_seconds = 0.5
        self.orders: dict[str, dict[str, Any]] = {}
        self.decoded_by: dict[str, str] = {}
        self.script: dict[str, list[str]] = defaultdict(list)
        self.received: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._count = 0
        # How answers carry Response-Time: "iso" (+08:00 style), or another form an SDK uses.
        self.response_time_format = "iso"
        self.app = self._build()

    def add_order(
        self,
        amount: tuple[str, int] = ("JPY", 1000),
        pay_to: tuple[str, int] = ("KRW", 9050),
        promo: int = 0,
        redirect_url: str = "https://merchant.example/return?order=1",
        expiry_seconds: int | None = 600,
        notify_url: str | None = "",
        **variation: Any,
    ) -> dict[str, Any]:
        """A decodable order; returns its userInitiatedPay answer body (without result).

        `expiry_seconds=None` / `notify_url=None` / `redirect_url=""` leave those fields out
        (`notify_url=""` is this server's notifyPayment URL). Variations (issue 11), each off
        by default: `surcharge=<minor units the user pays>`, `action_form={...}`, `rich=True`
        (env, goods, buyer, shipping, store), `merchant_name=...`, `extra=True` (unknown fields
        in every object).
        """
        self._count += 1
        code = f"https://qr.alipayplus.com/28166613TEST{self._count:06d}"
        prid = f"2026010100000000000000{self._count:05d}T"
        body: dict[str, Any] = {
            "acquirerId": "1022188000000000001",
            "pspId": "1022172000000000001",
            "codeType": "ORDER_CODE",
            "paymentRequestId": prid,
            "order": {
                "referenceOrderId": f"ORD-{self._count}",
                "orderDescription": "Two T-shirts",
                "orderAmount": {"currency": amount[0], "value": str(amount[1])},
                "merchant": {
                    "referenceMerchantId": "M001",
                    "merchantName": "Demo Shop Tokyo",
                    "merchantMCC": "5651",
                    "merchantAddress": {"region": "JP", "city": "Tokyo"},
                },
            },
            "paymentAmount": {"currency": amount[0], "value": str(amount[1])},
            "payToAmount": {"currency": pay_to[0], "value": str(pay_to[1] - promo)},
            "paymentFactor": {"isCashierPayment": "true"},
            "paymentRedirectUrl": redirect_url,
        }
        if expiry_seconds is not None:
            body["paymentExpiryTime"] = signing.format_time(
                self.clock.now() + timedelta(seconds=expiry_seconds)
            )
        if notify_url is not None:
            body["paymentNotifyUrl"] = notify_url or (
                self.base_url + "/aps/api/v1/payments/notifyPayment"
            )
        if amount[0] != pay_to[0]:
            body["paymentQuote"] = {
                "quoteId": "Q1",
                "quoteCurrencyPair": f"{amount[0]}/{pay_to[0]}",
                "quotePrice": "9.05000000",
            }
        if promo:
            body["paymentPromoInfo"] = {
                "paymentPromoDetails": [
                    {
                        "promoId": "P1",
                        "promoName": "Welcome voucher",
                        "promoType": "CASHLESS_FIXED_VOUCHER",
                        "savingsAmount": {"currency": pay_to[0], "value": str(promo)},
                    }
                ]
            }
        if not redirect_url:
            del body["paymentRedirectUrl"]
        _vary(body, **variation)
        self.orders[code] = body
        return {"codeValue": code, **body}

    def _answer(self, path: str, body: dict[str, Any]) -> Response:
        raw = json.dumps(body).encode()
        when = RESPONSE_TIME_FORMATS[self.response_time_format](self.clock.now())
        value = signing.sign(self.private_key, "POST", path, self.client_id, when, raw)
        headers = {
            "content-type": signing.CONTENT_TYPE,
            "client-id": self.client_id,
            "response-time": when,
            "signature": signing.format_signature_header(value),
        }
        return Response(raw, 200, headers)

    def _result(self, code: str) -> dict[str, str]:
        status = "S" if code == "SUCCESS" else "U" if code == "UNKNOWN_EXCEPTION" else "F"
        return {"resultCode": code, "resultStatus": status, "resultMessage": code.lower()}

    def _build(self) -> Flask:
        app = Flask("fake_alipay")

        @app.get("/_sim/clock")
        def clock() -> Response:
            return Response(json.dumps({"now": self.clock.now().isoformat()}), 200)

        @app.post("/aps/api/v1/codes/inquiryCodeRules")
        def rules() -> Response:
            return self._answer(request.path, {"result": self._result("SUCCESS"), **RULES})

        @app.post("/aps/api/v1/payments/<api>")
        def payments(api: str) -> Response:
            raw = request.get_data()
            body = json.loads(raw)
            path = request.full_path.rstrip("?")
            verified = bool(self.wallet_public_key) and signing.verify(
                self.wallet_public_key,
                "POST",
                path,
                request.headers["Client-Id"],
                request.headers["Request-Time"],
                raw,
                signing.parse_signature_header(request.headers["Signature"]).signature,
            )
            self.received[api].append(
                {"raw": raw, "body": body, "verified": verified, "query": request.query_string}
            )
            if not verified:
                return self._answer(request.path, {"result": self._result("INVALID_SIGNATURE")})
            if self.script[api]:
                scripted = self.script[api].pop(0)
                if scripted == "garbage":
                    return Response("<html>502 Bad Gateway</html>", 502)
                if scripted == "slow":  # answer after the caller's (tiny) timeout
                    time.sleep(self.slow_seconds)
                    return self._answer(request.path, {"result": self._result("SUCCESS")})
                if scripted == "unsigned-S":
                    return Response(json.dumps({"result": self._result("SUCCESS")}), 200)
                return self._answer(request.path, {"result": self._result(scripted)})
            if api == "userInitiatedPay":
                order = self.orders.get(body["codeValue"])
                if order is None:
                    return self._answer(request.path, {"result": self._result("INVALID_CODE")})
                first = self.decoded_by.setdefault(body["codeValue"], body["customerId"])
                if first != body["customerId"]:
                    answer = {"result": self._result("REPEAT_REQ_INCONSISTENT")}
                    return self._answer(request.path, answer)
                return self._answer(request.path, {"result": self._result("SUCCESS"), **order})
            return self._answer(request.path, {"result": self._result("SUCCESS")})

        return app

    def signed_call(self, client: Any, path: str, body: dict[str, Any] | bytes, **overrides: Any):
        """POST a request signed as Alipay+ to the wallet's test client."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = signing.signed_request_headers(
            self.private_key, self.client_id, path, raw, self.clock.now()
        )
        headers.update(overrides)
        return client.post(path, data=raw, headers=headers)

    def verify_answer(self, path: str, response: Any) -> bool:
        """Whether the wallet's answer carries a valid signature (lower-case headers)."""
        names = {name.lower() for name, _ in response.headers.items()}
        assert {"signature", "response-time", "client-id"} <= names
        return signing.verify(
            self.wallet_public_key,
            "POST",
            path,
            response.headers["client-id"],
            response.headers["response-time"],
            response.get_data(),
            signing.parse_signature_header(response.headers["signature"]).signature,
        )
