"""contracts/apis.py: the one table of the Alipay+ APIs agrees with the schemas and codes."""

from __future__ import annotations

import pytest

from contracts import apis, catalogue
from contracts.openapi import build, schema_documents


@pytest.mark.parametrize("api", list(apis.APIS.values()), ids=lambda api: api.name)
def test_each_api_has_its_schemas_codes_and_idempotency_fields(api):
    documents = schema_documents()
    request = documents[api.request_schema]
    assert api.response_schema in documents
    assert catalogue.codes(api.catalogue_key)
    properties = request.get("properties", {})
    for name in (*api.idempotency_key, *api.compared):
        assert name in properties, f"{api.name}: {name} is not a request field"
    assert api.direction in (apis.INBOUND, apis.OUTBOUND)


def test_the_openapi_documents_are_built_from_the_table():
    served = set(build("alipayplus")["paths"])
    called = set(build("mpp")["paths"])
    for api in apis.APIS.values():
        assert api.path in (served if api.direction == apis.INBOUND else called)
    assert apis.INBOUND_APIS == ("inquiryCodeRules", "userInitiatedPay", "notifyPayment")
    assert apis.OUTBOUND_APIS == ("inquiryPayment", "cancelPayment", "refund")


def test_lookups():
    assert apis.by_path("/aps/api/v1/payments/refund") is apis.get("refund")
    assert apis.by_path("/aps/api/v1/payments/nothing") is None
    with pytest.raises(KeyError, match="known: inquiryCodeRules"):
        apis.get("capture")
