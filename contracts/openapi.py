"""OpenAPI 3.1 documents built from the contract's JSON Schemas (side "alipayplus" or "mpp").

The schemas in contracts/schemas/ stay the single source of truth: they are loaded, their $refs
rewritten to `#/components/schemas/...`, and the shared `$defs` of defs.json become components.
OpenAPI 3.1 speaks JSON Schema 2020-12, so the schemas go in unchanged apart from the refs.

- "alipayplus": what the simulator serves (the three Alipay+ APIs a wallet calls, plus the
  `/_sim/` control plane under the "control" tag);
- "mpp": what a wallet must serve for Alipay+ to call it (inquiryPayment, cancelPayment, refund
  under `{mppBase}`).
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

from contracts import apis
from contracts.apis import Api

__all__ = ["SIDES", "build", "component_name", "schema_documents"]

SIDES = ("alipayplus", "mpp")
SCHEMA_DIR = Path(__file__).parent / "schemas"
SCHEMA_BASE = "https://aplus-sim.dev/schemas/"
DEFS_FILE = "defs.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


# Which side of the network serves each direction's APIs.
_SIDE_DIRECTION = {"alipayplus": apis.INBOUND, "mpp": apis.OUTBOUND}

# The simulator's control plane (DESIGN.md): (method, path, summary); bodies are generic JSON.
_CONTROL: tuple[tuple[str, str, str], ...] = (
    ("get", "/_sim/health", "Liveness, version and the storage in use."),
    ("post", "/_sim/reset", "Wipe state (keeps keys and registered MPPs unless told otherwise)."),
    ("get", "/_sim/participants", "Every registered MPP."),
    ("get", "/_sim/participants/{clientId}", "A registered MPP: pspId, keys, currency, URLs."),
    ("put", "/_sim/participants/{clientId}", "Register or update an MPP."),
    ("post", "/_sim/orders", "Merchant creates a cashier order; answers the cashier URL."),
    ("get", "/_sim/orders/{paymentRequestId}/qr.svg", "The order code as a QR code (SVG)."),
    ("get", "/_sim/payments", "Recent payments, newest first."),
    ("get", "/_sim/payments/{paymentRequestId}", "State, amounts and every exchange of a payment."),
    ("post", "/_sim/payments/{paymentRequestId}/cancel", "Merchant closes the order."),
    (
        "post",
        "/_sim/payments/{paymentRequestId}/refunds",
        "Merchant refund (Alipay+ calls refund).",
    ),
    ("get", "/_sim/payments/{paymentRequestId}/refunds", "The refunds of a payment."),
    ("get", "/_sim/clock", "The current (real or virtual) time."),
    ("post", "/_sim/clock/advance", "Move the virtual clock; due jobs run in time order."),
    ("get", "/_sim/journal", "Every exchange, both directions, with signature/contract verdicts."),
    ("delete", "/_sim/journal", "Empty the journal."),
    ("get", "/_sim/journal/{entryId}", "One exchange with its headers, bodies and verdicts."),
    ("get", "/_sim/faults", "Fault and result injection rules with their fire counts."),
    ("post", "/_sim/faults", "Add a fault or result injection rule; answers its id (201)."),
    ("delete", "/_sim/faults", "Clear every injection rule (?clientId= one wallet's)."),
    ("get", "/_sim/faults/{ruleId}", "One injection rule with its match and fire counts."),
    ("delete", "/_sim/faults/{ruleId}", "Delete one injection rule."),
    ("get", "/_sim/faults/effects", "The effect kinds a rule can inject, and where."),
    ("get", "/_sim/faults/magic", "The magic-value table (values that force a result)."),
    ("get", "/_sim/seed", "The seed of generated ids and random choices (null: unseeded)."),
    ("post", "/_sim/seed", "Seed generated ids, random choices and probabilistic rules."),
    ("get", "/_sim/report", "What a wallet did about the results and faults it was shown."),
    ("get", "/_sim/keys", "The simulator's public key (base64 SPKI and PEM)."),
    ("get", "/_sim/code-rules", "The code rules inquiryCodeRules serves now."),
    ("put", "/_sim/code-rules", "Replace the code rules served by inquiryCodeRules (new version)."),
    ("get", "/_sim/openapi.json", "This document."),
)

_HEADER_PARAMETERS = {
    "ClientId": {
        "name": "Client-Id",
        "in": "header",
        "required": True,
        "description": "The wallet's client id issued by Alipay+, e.g. SANDBOX_5YC2222ZME3Z08358.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 64},
    },
    "RequestTime": {
        "name": "Request-Time",
        "in": "header",
        "required": True,
        "description": "When the request was sent, ISO 8601 with offset (e.g. "
        "2019-04-04T12:08:56+05:30); signed byte-for-byte.",
        "schema": {"type": "string", "minLength": 1},
    },
    "Signature": {
        "name": "Signature",
        "in": "header",
        "required": True,
        "description": "algorithm=RSA256,keyVersion=1,signature=<URL-encoded base64 of "
        "SHA256withRSA over 'POST <path>\\n<Client-Id>.<Request-Time>.<body>'>.",
        "schema": {"type": "string", "minLength": 1},
    },
}
_RESPONSE_HEADERS = {
    "signature": {
        "description": "algorithm=RSA256,keyVersion=1,signature=<URL-encoded base64> over "
        "'POST <request path>\\n<client-id>.<response-time>.<response body>'. Lower-case name: "
        "the Python SDK only finds it that way.",
        "schema": {"type": "string"},
    },
    "response-time": {
        "description": "When the response was produced, ISO 8601 with offset; signed.",
        "schema": {"type": "string"},
    },
    "client-id": {
        "description": "The wallet's client id, echoed; part of the signed content.",
        "schema": {"type": "string"},
    },
}


def component_name(file_name: str) -> str:
    """Component name of a message schema: userInitiatedPay.request.json -> UserInitiatedPayRequest."""
    api, kind, _ = file_name.split(".", 2)
    return api[0].upper() + api[1:] + kind.capitalize()


@cache
def schema_documents() -> dict[str, dict]:
    """Every schema file in contracts/schemas/, by file name (parsed once)."""
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(SCHEMA_DIR.glob("*.json"))
    }


@cache
def build(side: str) -> dict:
    """The OpenAPI 3.1 document for `side` ("alipayplus" or "mpp"); cached, so do not mutate it."""
    if side not in SIDES:
        raise ValueError(f"unknown side {side!r}; choose one of: {', '.join(SIDES)}")
    components = _Components(schema_documents())
    paths: dict[str, Any] = {}
    for api in apis.APIS.values():
        if api.direction == _SIDE_DIRECTION[side]:
            paths[api.path] = {"post": _operation(side, api, components)}
    tags = [_API_TAGS[side]]
    if side == "alipayplus":
        tags.append(
            {"name": "control", "description": "The simulator's control plane (not Alipay+)."}
        )
        for method, path, summary in _CONTROL:
            paths.setdefault(path, {})[method] = _control_operation(method, path, summary)
    return {
        "openapi": "3.1.0",
        "info": _INFO[side] | {"version": _version()},
        "jsonSchemaDialect": DIALECT,
        "servers": _SERVERS[side],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": components.schemas,
            "parameters": copy.deepcopy(_HEADER_PARAMETERS),
        },
    }


_API_TAGS = {
    "alipayplus": {
        "name": "alipayplus",
        "description": "Alipay+ APIs a wallet (MPP) calls. Every answer is HTTP 200 with a "
        "result object; signed requests and signed responses.",
    },
    "mpp": {
        "name": "mpp",
        "description": "Endpoints a wallet (MPP) serves for Alipay+ to call. The URLs are "
        "registered per wallet; these are aplus-sim's defaults under {mppBase}.",
    },
}
_INFO = {
    "alipayplus": {
        "title": "aplus-sim: Alipay+ Cashier Payment APIs served by the simulator",
        "description": "What the aplus-sim simulator serves: the Alipay+ APIs a wallet calls in "
        "Cashier Payment, and the simulator's /_sim/ control plane. Built from the JSON "
        "Schemas in contracts/schemas/.",
    },
    "mpp": {
        "title": "aplus-sim: endpoints a wallet (MPP) must serve for Alipay+",
        "description": "What Alipay+ (and so the simulator) calls on a wallet in Cashier "
        "Payment. Built from the JSON Schemas in contracts/schemas/.",
    },
}
_SERVERS = {
    "alipayplus": [{"url": "/", "description": "The simulator serving this document."}],
    "mpp": [
        {
            "url": "{mppBase}",
            "description": "The wallet's base URL as registered with the simulator.",
            "variables": {"mppBase": {"default": "http://127.0.0.1:8361"}},
        }
    ],
}


def _version() -> str:
    try:
        return metadata.version("aplus-sim")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"


def _operation(side: str, api: Api, components: _Components) -> dict:
    request = components.add_message(api.request_schema)
    response = components.add_message(api.response_schema)
    return {
        "operationId": api.name,
        "tags": [side],
        "summary": api.summary,
        "description": api.notes + "\n\n" + _codes_description(api),
        "parameters": [{"$ref": f"#/components/parameters/{name}"} for name in _HEADER_PARAMETERS],
        "requestBody": {
            "required": True,
            "description": f"The {api.name} request, signed by {api.caller}.",
            "content": {"application/json": {"schema": {"$ref": _ref(request)}}},
        },
        "responses": {
            "200": {
                "description": f"The {api.name} answer; the outcome is in result "
                "(S success, F failure, U unknown: retry the same request or inquire).",
                "headers": copy.deepcopy(_RESPONSE_HEADERS),
                "content": {"application/json": {"schema": {"$ref": _ref(response)}}},
            }
        },
    }


def _codes_description(api: Api) -> str:
    from contracts import catalogue  # the catalogue is only needed to describe the codes

    lines = [
        f"Result codes of {api.name} (`result.resultCode`):",
        "",
        *_code_table(catalogue, api.catalogue_key),
    ]
    if api.payment_result:
        lines += ["", "Payment result codes (`paymentResult.resultCode`):", ""]
        lines += _code_table(catalogue, "paymentResult")
    return "\n".join(lines)


def _code_table(catalogue: Any, api: str) -> list[str]:
    rows = [
        "| resultCode | resultStatus | meaning | what the caller does | confidence |",
        "|---|---|---|---|---|",
    ]
    for code in catalogue.codes(api):
        cells = (code.code, code.status, code.meaning, code.action, code.confidence)
        rows.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return rows


def _control_operation(method: str, path: str, summary: str) -> dict:
    operation: dict[str, Any] = {
        "operationId": "sim_" + method + "_" + re.sub(r"\W+", "_", path.strip("/")).strip("_"),
        "tags": ["control"],
        "summary": summary,
        "responses": {
            "200": {
                "description": "JSON answer.",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    }
    if path.endswith(".svg"):
        operation["responses"]["200"] = {
            "description": "An SVG image.",
            "content": {"image/svg+xml": {"schema": {"type": "string"}}},
        }
    names = re.findall(r"{(\w+)}", path)
    if names:
        operation["parameters"] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in names
        ]
    if method in ("post", "put"):
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    return operation


def _ref(name: str) -> str:
    return f"#/components/schemas/{name}"


class _Components:
    """Collects component schemas, rewriting every $ref to point inside the document."""

    def __init__(self, documents: dict[str, dict]) -> None:
        self.documents = documents
        self.schemas: dict[str, Any] = {}
        defs_uri = SCHEMA_BASE + DEFS_FILE
        for name, schema in documents[DEFS_FILE].get("$defs", {}).items():
            self.schemas[name] = self._rewrite(schema, defs_uri)

    def add_message(self, file_name: str) -> str:
        """Put a message schema (and its local $defs) into the components; return its name."""
        if file_name not in self.documents:
            raise ValueError(f"no schema file {file_name} in {SCHEMA_DIR}")
        name = component_name(file_name)
        if name not in self.schemas:
            self.schemas[name] = {}  # placeholder: a message may refer to itself
            document = self.documents[file_name]
            uri = document.get("$id", SCHEMA_BASE + file_name)
            for local, schema in document.get("$defs", {}).items():
                self.schemas[f"{name}_{local}"] = self._rewrite(schema, uri)
            body = {k: v for k, v in document.items() if k not in ("$schema", "$id", "$defs")}
            self.schemas[name] = self._rewrite(body, uri)
        return name

    def _rewrite(self, value: Any, base: str) -> Any:
        if isinstance(value, dict):
            out = {k: self._rewrite(v, base) for k, v in value.items() if k not in ("$id",)}
            if isinstance(value.get("$ref"), str):
                out["$ref"] = self._target(urljoin(base, value["$ref"]))
            return out
        if isinstance(value, list):
            return [self._rewrite(item, base) for item in value]
        return value

    def _target(self, absolute: str) -> str:
        document, fragment = urldefrag(absolute)
        if not document.startswith(SCHEMA_BASE):
            raise ValueError(f"$ref to {absolute} leaves the contract's schemas")
        file_name = document[len(SCHEMA_BASE) :]
        match = re.match(r"^/\$defs/([^/]+)(.*)$", fragment)
        if file_name == DEFS_FILE:
            if not match:
                raise ValueError(f"$ref {absolute} must point into defs.json's $defs")
            return _ref(match.group(1)) + match.group(2)
        name = self.add_message(file_name)
        if match:
            return _ref(f"{name}_{match.group(1)}") + match.group(2)
        return _ref(name) + fragment
