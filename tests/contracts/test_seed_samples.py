"""The seed document's own JSON samples validate against the contract (issue 11).

The seed ("Make a payment", the official Alipay+ Cashier Payment guide) shows a userInitiatedPay
request and response. Each JSON sample is extracted from the text, its API is read from the
sentence that introduces the samples and its kind from the heading above it, and it must pass
`contracts.validate`. Verbatim copies live in fixtures/samples (`*.seed-make-payment.json`), so
the check also runs where the seed folder is absent.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from contracts import validate
from contracts.validation import APIS

ROOT = Path(__file__).resolve().parents[2]
SEED_DIR = Path(os.environ.get("APLUS_SIM_SEED_DIR", "/work/shared/seed"))
SEEDS = sorted(SEED_DIR.glob("*.txt")) if SEED_DIR.is_dir() else []
COPIES = {
    "request": ROOT / "fixtures/samples/userInitiatedPay.request.seed-make-payment.json",
    "response": ROOT / "fixtures/samples/userInitiatedPay.response.seed-make-payment.json",
}
_API_NAME = re.compile(r"\b(" + "|".join(APIS) + r")\b")
_KIND = re.compile(r"^(Request|Response) from\b", re.MULTILINE)


def extract_samples(text: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(api, kind, message) for every JSON object in `text` that follows a Request/Response
    heading; the api is the last API name mentioned before the object."""
    decoder = json.JSONDecoder()
    found = []
    for match in _KIND.finditer(text):
        start = text.find("{", match.end())
        if start < 0:
            break
        message, _ = decoder.raw_decode(text, start)
        names = _API_NAME.findall(text, 0, match.start())
        assert names, f"no API named before the sample at offset {match.start()}"
        found.append((names[-1], match.group(1).lower(), message))
    return found


def test_the_extractor_reads_api_and_kind() -> None:
    text = (
        "The MPP calls the Alipay+ userInitiatedPay API.\nRequest from the MPP to Alipay+\n"
        'copy\n{"codeValue":"c","customerId":"u"}\nResponse from Alipay+ to the MPP\n'
        'copy\n{"result":{"resultCode":"SUCCESS","resultStatus":"S"}}\n'
    )
    assert [(a, k) for a, k, _ in extract_samples(text)] == [
        ("userInitiatedPay", "request"),
        ("userInitiatedPay", "response"),
    ]


@pytest.mark.parametrize("kind", sorted(COPIES))
def test_the_committed_copies_of_the_seed_samples_validate(kind: str) -> None:
    message = json.loads(COPIES[kind].read_text(encoding="utf-8"))
    assert validate("userInitiatedPay", kind, message) == []


@pytest.mark.skipif(not SEEDS, reason=f"no seed document under {SEED_DIR} (APLUS_SIM_SEED_DIR)")
@pytest.mark.parametrize("seed", SEEDS, ids=[p.name for p in SEEDS])
def test_every_seed_sample_validates_and_matches_its_copy(seed: Path) -> None:
    samples = extract_samples(seed.read_text(encoding="utf-8"))
    assert samples, "the seed shows JSON samples"
    for api, kind, message in samples:
        assert validate(api, kind, message) == [], (api, kind)
        if api == "userInitiatedPay":
            assert message == json.loads(COPIES[kind].read_text(encoding="utf-8"))
