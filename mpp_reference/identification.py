"""Code identification for the wallet: contracts.codes (the Python counterpart of the server SDK's
CodeIdentificationService), fed with the rules Alipay+ serves through inquiryCodeRules."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from contracts.codes import CodeIdentifier, RulesCache

log = logging.getLogger("mpp_reference.codes")


class Identifier:
    """identify(code) -> the server SDK's CodeIdentificationResult fields, as a dict.

    Rules come from `fetch` (a signed inquiryCodeRules call), are cached in `storage_dir` and
    refreshed every `refresh_seconds`; when Alipay+ cannot be reached at start the cache falls
    back to the stored copy, then to the bundled preset, as the SDK does.
    """

    def __init__(
        self,
        fetch: Callable[[], Mapping[str, Any]],
        client_id: str,
        storage_dir: Path,
        refresh_seconds: int,
        clock: Any,
    ) -> None:
        self._clock = clock
        self.cache = RulesCache(
            fetch, storage_dir, refresh_seconds=refresh_seconds, clock=clock.now
        )
        self._identifier = CodeIdentifier(self.cache, client_id=client_id)
        self._started = False

    def identify(self, code_value: str) -> dict[str, Any]:
        """The identification result for one code value."""
        if not self._started:
            self._started = True
            outcome = self.cache.init()
            log.info("code rules: %s", outcome)
        else:
            try:
                self.cache.maybe_refresh(self._clock.now())
            except Exception:  # the cached rules stay in use, as in the SDK
                log.exception("code-rule refresh failed")
        return self._identifier.identify_code(code_value).to_dict()
