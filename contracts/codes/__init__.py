"""Code identification: the Python counterpart of the Alipay+ MPP server SDK's
CodeIdentificationService (identifyCode), with EMVCo parsing and an SDK-like rules cache."""

from __future__ import annotations

from .emv import EmvCode, EmvError, build_emv, crc_hex, parse_emv, try_parse_emv
from .identify import (
    DEFAULT_USER_AGENT,
    SDK_JAR_VERSION,
    CodeIdentificationResult,
    CodeIdentifier,
    identify_code,
)
from .rules import CompiledRule, RuleError, RuleSet
from .rules_cache import (
    FetchError,
    InitResult,
    RefreshOutcome,
    RulesCache,
    bundled_preset_path,
    http_fetcher,
)

__all__ = [
    "DEFAULT_USER_AGENT",
    "SDK_JAR_VERSION",
    "CodeIdentificationResult",
    "CodeIdentifier",
    "CompiledRule",
    "EmvCode",
    "EmvError",
    "FetchError",
    "InitResult",
    "RefreshOutcome",
    "RuleError",
    "RuleSet",
    "RulesCache",
    "build_emv",
    "bundled_preset_path",
    "crc_hex",
    "http_fetcher",
    "identify_code",
    "parse_emv",
    "try_parse_emv",
]
