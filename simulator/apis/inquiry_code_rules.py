"""inquiryCodeRules: a wallet fetches the code rules and their version (wallet -> Alipay+).

Read-only: the answer is the rule set `sim.code_rules` serves now (the default set of
fixtures/code_rules/default.json until PUT /_sim/code-rules replaces it, each time under a new
version) and its version; a wallet keeps its cache while the version is unchanged. The request
has no required field; an empty body is accepted. The official server SDK never signs this call:
its placeholder `signature=testing_signature` is accepted on this path only (protocol.serve).

Answers: SUCCESS, or what the pipeline refuses with. Faults: every inbound effect (headers,
rules); magic values in jarVersion (contracts/data/magic_values.json).

Not simulated: rules per wallet or per region (every wallet gets the same set).
"""

from __future__ import annotations

from typing import Any

from contracts import apis
from simulator.errors import success
from simulator.exchange import Inbound
from simulator.state import current

API = apis.get("inquiryCodeRules")
# The codes this handler answers itself (the pipeline adds its own, e.g. INVALID_SIGNATURE).
CODES = ("SUCCESS",)


def handle(inbound: Inbound) -> dict[str, Any]:
    """The code rules served now and their version."""
    rules = current().code_rules.current()
    return {
        "result": success(API.name),
        "codeRules": rules["codeRules"],
        "version": rules["version"],
    }
