"""Code identification for the wallet: contracts.codes (engineer C's port of the server SDK),
fed with the rules Alipay+ serves through inquiryCodeRules and cached in the data dir."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mpp_reference.alipay_client import INQUIRY_CODE_RULES

log = logging.getLogger("mpp_reference.codes")


class Identifier:
    """identify(code) -> the server SDK's CodeIdentificationResult fields, as a dict."""

    def __init__(
        self,
        alipay_url: str,
        client_id: str,
        storage_dir: Path,
        timeout: float,
        refresh_seconds: int,
        clock: Any,
    ) -> None:
        self._url = alipay_url.rstrip("/") + INQUIRY_CODE_RULES
        self._client_id = client_id
        self._storage_dir = storage_dir
        self._timeout = timeout
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._identifier: Any = None
        self._cache: Any = None

    def _ready(self) -> Any:
        if self._identifier is None:
            from contracts.codes.identify import CodeIdentifier

            try:
                from contracts.codes import RulesCache, http_fetcher
            except ImportError:  # TEMPORARY until contracts.codes.rules_cache lands
                import requests

                body = requests.post(self._url, json={}, timeout=self._timeout).json()
                self._identifier = CodeIdentifier(body, client_id=self._client_id)
                return self._identifier
            self._storage_dir.mkdir(parents=True, exist_ok=True)
            self._cache = RulesCache(
                lambda: http_fetcher(self._url, self._client_id, timeout=self._timeout),
                self._storage_dir,
                refresh_seconds=self._refresh_seconds,
                clock=self._clock.now,
            )
            self._cache.init()
            self._identifier = CodeIdentifier(self._cache, client_id=self._client_id)
        return self._identifier

    def refresh(self) -> None:
        """Fetch the rules again now (keeps the cached ones when Alipay+ fails)."""
        self._ready()
        if self._cache is not None:
            self._cache.refresh()

    def identify(self, code_value: str) -> dict[str, Any]:
        """The identification result for one code value."""
        identifier = self._ready()
        if self._cache is not None:
            try:
                self._cache.maybe_refresh(self._clock.now())
            except Exception:  # the cached rules stay in use, as in the SDK
                log.exception("code-rule refresh failed")
        return identifier.identify_code(code_value).to_dict()
