"""One inbound request as an API handler sees it, once the pipeline has accepted it.

`simulator.protocol.serve` authenticates, parses and checks a wallet's request, then hands an
`Inbound` to the API's handler (simulator/apis/<api>.py). A handler answers a dict (the body to
sign) or the exact text of a stored answer (an idempotent replay), or raises a ProtocolError.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Inbound:
    """One authenticated, parsed request handed to an API handler."""

    api: str
    client_id: str
    participant: dict[str, Any]
    body: dict[str, Any]
    path: str
    payment_request_id: str | None = None
    note: str | None = None


# A handler's answer: the body as a dict, or the exact JSON text to send (a stored answer).
Answer = dict[str, Any] | str
Handler = Callable[[Inbound], Answer]
