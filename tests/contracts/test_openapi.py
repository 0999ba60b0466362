"""The OpenAPI 3.1 documents: well-formed, built from the schemas, usable as JSON Schema."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from contracts import catalogue, openapi
from contracts.strategies import valid_message

API_PATHS = {
    "alipayplus": {
        "/aps/api/v1/codes/inquiryCodeRules": "inquiryCodeRules",
        "/aps/api/v1/payments/userInitiatedPay": "userInitiatedPay",
        "/aps/api/v1/payments/notifyPayment": "notifyPayment",
    },
    "mpp": {
        "/aps/api/v1/payments/inquiryPayment": "inquiryPayment",
        "/aps/api/v1/payments/cancelPayment": "cancelPayment",
        "/aps/api/v1/payments/refund": "refund",
    },
}
# The control plane as DESIGN.md lists it.
CONTROL = {
    ("get", "/_sim/health"),
    ("post", "/_sim/reset"),
    ("get", "/_sim/participants/{clientId}"),
    ("put", "/_sim/participants/{clientId}"),
    ("post", "/_sim/orders"),
    ("get", "/_sim/payments/{paymentRequestId}"),
    ("post", "/_sim/payments/{paymentRequestId}/cancel"),
    ("post", "/_sim/payments/{paymentRequestId}/refunds"),
    ("get", "/_sim/clock"),
    ("post", "/_sim/clock/advance"),
    ("get", "/_sim/journal"),
    ("get", "/_sim/faults"),
    ("get", "/_sim/keys"),
    ("get", "/_sim/openapi.json"),
}
ROOT = Path(__file__).resolve().parents[2]
SPEC_RESPONSE = json.loads(
    (ROOT / "fixtures" / "samples" / "userInitiatedPay.response.success.json").read_text(
        encoding="utf-8"
    )
)  # the spec's §4.3 example


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return found + [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def _resolve(document: dict, ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} does not point inside the document"
    node: Any = document
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def _deref(document: dict, value: dict) -> dict:
    return _resolve(document, value["$ref"]) if "$ref" in value else value


def _component_validator(document: dict, component: str) -> Draft202012Validator:
    uri = "urn:aplus-sim:openapi"
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource(uri, resource)
    return Draft202012Validator(
        {"$ref": f"{uri}#/components/schemas/{component}"}, registry=registry
    )


@pytest.mark.parametrize("side", openapi.SIDES)
def test_every_ref_resolves_inside_the_document(side: str) -> None:
    document = openapi.build(side)
    refs = _refs(document)
    assert refs, "the document should reference its components"
    for ref in refs:
        _resolve(document, ref)


@pytest.mark.parametrize("side", openapi.SIDES)
def test_document_header_is_openapi_3_1_with_2020_12_schemas(side: str) -> None:
    document = openapi.build(side)
    assert document["openapi"].startswith("3.1.")
    assert document["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["info"]["title"] and document["info"]["version"]
    assert all(server["url"] for server in document["servers"])
    for name, schema in document["components"]["schemas"].items():
        assert re.fullmatch(r"[A-Za-z0-9._-]+", name), name
        assert "$id" not in schema and "$schema" not in schema, name
        Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("side", openapi.SIDES)
def test_every_api_path_is_a_signed_post_with_request_body_and_200(side: str) -> None:
    document = openapi.build(side)
    api_paths = {p: ops for p, ops in document["paths"].items() if not p.startswith("/_sim/")}
    assert set(api_paths) == set(API_PATHS[side])
    for path, operations in api_paths.items():
        api = API_PATHS[side][path]
        post = operations["post"]
        assert set(operations) == {"post"}
        assert post["operationId"] == api
        body = post["requestBody"]
        assert body["required"] is True
        request_ref = body["content"]["application/json"]["schema"]["$ref"]
        assert (
            request_ref == f"#/components/schemas/{openapi.component_name(api + '.request.json')}"
        )
        ok = post["responses"]["200"]
        response_ref = ok["content"]["application/json"]["schema"]["$ref"]
        assert response_ref.endswith(openapi.component_name(api + ".response.json"))
        assert set(ok["headers"]) == {"signature", "response-time", "client-id"}
        headers = {_deref(document, p)["name"] for p in post["parameters"]}
        assert headers == {"Client-Id", "Request-Time", "Signature"}
        assert all(_deref(document, p)["in"] == "header" for p in post["parameters"])


def test_alipayplus_side_documents_the_control_plane_under_the_control_tag() -> None:
    document = openapi.build("alipayplus")
    operations = {
        (method, path): op
        for path, ops in document["paths"].items()
        if path.startswith("/_sim/")
        for method, op in ops.items()
    }
    assert set(operations) >= CONTROL
    assert {tag["name"] for tag in document["tags"]} == {"alipayplus", "control"}
    for (_, path), op in operations.items():
        assert op["tags"] == ["control"]
        assert "200" in op["responses"]
        for name in re.findall(r"{(\w+)}", path):
            assert any(
                p["name"] == name and p["in"] == "path" and p["required"] for p in op["parameters"]
            ), (path, name)
    operation_ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids))


def _shape(path: str) -> str:
    """A path with every parameter blanked: /_sim/payments/{} for any spelling of it."""
    return re.sub(r"<[^>]+>|{[^}]+}", "{}", path)


def test_every_control_route_the_simulator_serves_is_documented(tmp_path: Path) -> None:
    from simulator import create_app  # tests may import everything; contracts may not

    app = create_app(
        {"data_dir": tmp_path, "clock": "virtual", "run_scheduler": False, "testing": True}
    )
    try:
        served = {
            (method.lower(), _shape(rule.rule))
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/_sim/") and not rule.rule.startswith("/_sim/ui")
            for method in rule.methods - {"HEAD", "OPTIONS"}
        }
    finally:
        app.extensions["aplus_sim"].engine.dispose()
    document = openapi.build("alipayplus")
    documented = {
        (method, _shape(path)) for path, ops in document["paths"].items() for method in ops
    }
    assert served, "the simulator should serve a control plane"
    assert served <= documented, f"not documented: {sorted(served - documented)}"


def test_mpp_side_has_only_the_wallet_endpoints_under_mpp_base() -> None:
    document = openapi.build("mpp")
    assert not any(path.startswith("/_sim/") for path in document["paths"])
    assert document["servers"][0]["url"] == "{mppBase}"
    assert "mppBase" in document["servers"][0]["variables"]


@pytest.mark.parametrize(
    "side, api", [(side, api) for side, paths in API_PATHS.items() for api in paths.values()]
)
def test_operation_description_lists_the_catalogue_codes(side: str, api: str) -> None:
    document = openapi.build(side)
    path = next(p for p, a in API_PATHS[side].items() if a == api)
    description = document["paths"][path]["post"]["description"]
    codes = catalogue.codes(api)
    assert codes
    for code in codes:
        assert f"| {code.code} | {code.status} |" in description
    if api in ("notifyPayment", "inquiryPayment"):
        assert "USER_BALANCE_NOT_ENOUGH" in description  # paymentResult codes too
    assert re.search(r"\b[58] s\b", description), "the timeout that applies is stated"
    if api == "inquiryCodeRules":
        assert "testing_signature" in description


@pytest.mark.parametrize("side", openapi.SIDES)
def test_components_carry_the_schema_files_unchanged_apart_from_refs(side: str) -> None:
    document = openapi.build(side)
    schemas = document["components"]["schemas"]
    files = openapi.schema_documents()
    for name, definition in files["defs.json"]["$defs"].items():
        assert schemas[name]["description"] == definition["description"]
        assert schemas[name].get("required") == definition.get("required")
        assert set(schemas[name].get("properties", {})) == set(definition.get("properties", {}))
    for api in API_PATHS[side].values():
        for kind in ("request", "response"):
            source = files[f"{api}.{kind}.json"]
            component = schemas[openapi.component_name(f"{api}.{kind}.json")]
            assert set(component.get("properties", {})) == set(source.get("properties", {}))
            assert component.get("required") == source.get("required")


def test_component_schemas_validate_messages_like_the_contract() -> None:
    document = openapi.build("alipayplus")
    validator = _component_validator(document, "UserInitiatedPayResponse")
    assert list(validator.iter_errors(SPEC_RESPONSE)) == []
    broken = copy.deepcopy(SPEC_RESPONSE)
    del broken["paymentRequestId"]  # required when result is S
    broken["payToAmount"]["value"] = "100.00"
    errors = {"/" + "/".join(map(str, e.absolute_path)) for e in validator.iter_errors(broken)}
    assert "/payToAmount/value" in errors
    assert any("paymentRequestId" in e.message for e in validator.iter_errors(broken))


@pytest.mark.parametrize(
    "side, api, kind",
    [
        (side, api, kind)
        for side, paths in API_PATHS.items()
        for api in paths.values()
        for kind in ("request", "response")
    ],
)
def test_generated_messages_fit_the_documented_bodies(side: str, api: str, kind: str) -> None:
    """The components accept what the contract accepts: no field lost in the rewrite."""
    document = openapi.build(side)
    validator = _component_validator(document, openapi.component_name(f"{api}.{kind}.json"))

    @settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(valid_message(api, kind))
    def check(message: dict) -> None:
        assert [e.message for e in validator.iter_errors(message)] == []

    check()


def test_build_is_cached_and_rejects_an_unknown_side() -> None:
    assert openapi.build("mpp") is openapi.build("mpp")
    with pytest.raises(ValueError, match="alipayplus, mpp"):
        openapi.build("merchant")


def test_component_name_of_a_message_file() -> None:
    assert openapi.component_name("userInitiatedPay.request.json") == "UserInitiatedPayRequest"
    assert openapi.component_name("refund.response.json") == "RefundResponse"
