"""A code-rules cache that behaves like the server SDK's: REMOTE -> STORAGE -> PRESET at start,
timer-driven refresh that never loses working rules, persisted to `route_rule_config.json`.

No thread is started unless asked: call `maybe_refresh()` from your own timer (tests move a
fake clock), or `start_background()` for a daemon thread that does it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from .rules import RuleSet

LEVELS = ("REMOTE", "STORAGE", "PRESET")
STORAGE_FILE = "route_rule_config.json"
# The SDK's request to inquiryCodeRules carries this fixed placeholder instead of a signature.
PLACEHOLDER_SIGNATURE = "algorithm=RSA256, keyVersion=2, signature=testing_signature"
_FAILURE_CODES = {
    "REMOTE": "REMOTE_CONFIG_UPDATE_FAILED",
    "STORAGE": "STORAGE_CONFIG_LOAD_FAILED",
    "PRESET": "INIT_CONFIG_IS_INVALID",
}

Fetch = Callable[[], Mapping[str, Any]]
Clock = Callable[[], datetime]  # or any object with a now() method


class RulesUnavailable(RuntimeError):
    """A source could not give a usable rule set."""


def bundled_preset_path() -> Path:
    """The bundled preset rule set (version "1"), used when nothing else works."""
    return Path(str(resources.files(__package__).joinpath("data/preset_rules.json")))


def usable_rules(body: Any, where: str) -> RuleSet:
    """Compile a rules body, raising RulesUnavailable when it holds no usable rule."""
    if not isinstance(body, Mapping):
        raise RulesUnavailable(f"{where}: not a JSON object")
    if not body.get("codeRules"):
        raise RulesUnavailable(f"{where}: no codeRules")
    rules = RuleSet.from_body(body)
    if not rules.rules:
        raise RulesUnavailable(f"{where}: no usable rule ({'; '.join(rules.problems)})")
    return rules


@dataclass(frozen=True)
class InitResult:
    """The SDK's CodeIdentificationInitResult, plus where the rules came from."""

    result: Mapping[str, str]
    source: str | None
    version: str | None
    errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when rules were loaded (result S)."""
        return self.result.get("resultStatus") == "S"


@dataclass(frozen=True)
class RefreshOutcome:
    """What a refresh did: UPDATED (new version), UNCHANGED or FAILED (old rules kept)."""

    status: str
    version: str | None
    message: str = ""


class RulesCache:
    """Code rules kept current the way the SDK does it; reads are lock-free and thread-safe."""

    def __init__(
        self,
        fetch: Fetch,
        storage_dir: str | os.PathLike[str],
        preset_path: str | os.PathLike[str] | None = None,
        refresh_seconds: float = 1800,
        retry_seconds: float = 120,
        clock: Clock | None = None,
        init_level: str = "PRESET",
    ) -> None:
        self._fetch = fetch
        self.storage_dir = Path(storage_dir)
        self.preset_path = Path(preset_path) if preset_path is not None else bundled_preset_path()
        self.refresh_interval = timedelta(seconds=refresh_seconds)
        self.retry_interval = timedelta(seconds=retry_seconds)
        if clock is not None and not callable(clock) and hasattr(clock, "now"):
            clock = clock.now  # a clock object, like the simulator's and the wallet's
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self.init_level = init_level
        self._lock = threading.RLock()
        self._rules: RuleSet | None = None
        self.source: str | None = None
        self.next_refresh_at: datetime | None = None
        self.last_outcome: RefreshOutcome | None = None
        self._preset_refresh_tried = False

    # -- reading ---------------------------------------------------------------------------------
    @property
    def storage_file(self) -> Path:
        """Where fetched rules are persisted."""
        return self.storage_dir / STORAGE_FILE

    @property
    def version(self) -> str | None:
        """The version of the rules in use (None before init)."""
        return None if self._rules is None else self._rules.version

    def current(self) -> RuleSet:
        """The rule set in use; initialises on first use if `init()` was not called."""
        rules = self._rules
        if rules is None:
            self.init()
            rules = self._rules
        return rules if rules is not None else RuleSet(None, ())

    # -- start-up ----------------------------------------------------------------------------------
    def init(self) -> InitResult:
        """Load rules from REMOTE, then STORAGE, then PRESET, not going below `init_level`."""
        if self.init_level not in LEVELS:
            return InitResult(
                {"resultCode": "PARAM_ILLEGAL", "resultStatus": "F",
                 "resultMessage": f"init level must be one of {', '.join(LEVELS)}"},
                None, None,
            )  # fmt: skip
        errors: list[str] = []
        allowed = LEVELS[: LEVELS.index(self.init_level) + 1]
        with self._lock:
            now = self._clock()
            for level in allowed:
                try:
                    rules, body = self._load(level)
                except Exception as exc:  # each source may fail in its own way
                    errors.append(f"{level}: {exc}")
                    continue
                self._rules, self.source = rules, level
                if level == "REMOTE":
                    self._persist(body, now, errors)
                    self.next_refresh_at = now + self.refresh_interval
                else:
                    self.next_refresh_at = now + self.retry_interval
                return InitResult(
                    {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
                    level, rules.version, tuple(errors),
                )  # fmt: skip
            failed = allowed[-1]
            return InitResult(
                {"resultCode": _FAILURE_CODES[failed], "resultStatus": "F",
                 "resultMessage": "; ".join(errors)},
                None, None, tuple(errors),
            )  # fmt: skip

    def _load(self, level: str) -> tuple[RuleSet, Mapping[str, Any]]:
        if level == "REMOTE":
            body = self._fetch()
            _check_success(body)
            return usable_rules(body, "remote"), body
        path = self.storage_file if level == "STORAGE" else self.preset_path
        body = json.loads(path.read_text("utf-8"))
        return usable_rules(body, str(path)), body

    # -- refreshing --------------------------------------------------------------------------------
    def refresh(self) -> RefreshOutcome:
        """Fetch rules now: a new version replaces and is persisted; anything else keeps the old."""
        with self._lock:
            now = self._clock()
            try:
                body = self._fetch()
                _check_success(body)
                if not body.get("codeRules"):
                    outcome = RefreshOutcome("UNCHANGED", self.version, "empty codeRules")
                elif self._rules is not None and body.get("version") == self._rules.version:
                    outcome = RefreshOutcome("UNCHANGED", self.version, "same version")
                else:
                    rules = usable_rules(body, "remote")
                    errors: list[str] = []
                    self._rules, self.source = rules, "REMOTE"
                    self._persist(body, now, errors)
                    outcome = RefreshOutcome("UPDATED", rules.version, "; ".join(errors))
                self.next_refresh_at = now + self.refresh_interval
            except Exception as exc:  # network, JSON, non-S result: keep what we have
                outcome = RefreshOutcome("FAILED", self.version, f"{type(exc).__name__}: {exc}")
                self.next_refresh_at = now + self.retry_interval
            self.last_outcome = outcome
            return outcome

    def maybe_refresh(self, now: datetime | None = None) -> RefreshOutcome | None:
        """Refresh if the timer is due (30 min after success, 2 min after a failure)."""
        with self._lock:  # one refresh even when several threads notice it is due
            if self._rules is None:
                self.init()
                return None
            now = now or self._clock()
            due = self.next_refresh_at
            if due is not None and now < due:
                return None
            return self.refresh()

    def before_identify(self) -> None:
        """Called on identify: a cache that started from its preset tries the remote once."""
        if self.source != "PRESET" or self._preset_refresh_tried:
            return
        with self._lock:
            if self._preset_refresh_tried:
                return
            self._preset_refresh_tried = True
            self.refresh()

    # -- storage -----------------------------------------------------------------------------------
    def _persist(self, body: Mapping[str, Any], now: datetime, errors: list[str]) -> None:
        """Write `body` to route_rule_config.json, backing up the previous file first."""
        try:
            self.storage_dir.mkdir(parents=True, exist_ok=True)
            target = self.storage_file
            if target.exists():
                stamp = f"{now:%Y%m%d%H%M}{now.microsecond // 1000:03d}"  # as the SDK names them
                backup = target.with_name(f"{STORAGE_FILE}.{stamp}")
                n = 1
                while backup.exists():
                    backup = target.with_name(f"{STORAGE_FILE}.{stamp}-{n}")
                    n += 1
                target.replace(backup)
            tmp = target.with_name(f".{STORAGE_FILE}.tmp")
            tmp.write_text(json.dumps(body, ensure_ascii=False), "utf-8")
            tmp.replace(target)
        except OSError as exc:  # rules stay in memory; storage is only a fallback
            errors.append(f"STORAGE write: {exc}")

    # -- background --------------------------------------------------------------------------------
    def start_background(self, poll_seconds: float = 5.0) -> RefreshThread:
        """Start a daemon thread calling `maybe_refresh()` every `poll_seconds`."""
        thread = RefreshThread(self, poll_seconds)
        thread.start()
        return thread


class RefreshThread(threading.Thread):
    """A daemon thread that keeps a RulesCache fresh until `stop()`."""

    def __init__(self, cache: RulesCache, poll_seconds: float) -> None:
        super().__init__(name="code-rules-refresh", daemon=True)
        self.cache = cache
        self.poll_seconds = poll_seconds
        self._stopped = threading.Event()

    def run(self) -> None:
        """Poll until stopped."""
        while not self._stopped.wait(self.poll_seconds):
            self.cache.maybe_refresh()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop polling and wait for the thread to end."""
        self._stopped.set()
        self.join(timeout)


def _check_success(body: Any) -> None:
    if not isinstance(body, Mapping):
        raise RulesUnavailable("response is not a JSON object")
    result = body.get("result")
    status = result.get("resultStatus") if isinstance(result, Mapping) else None
    if status != "S":
        code = result.get("resultCode") if isinstance(result, Mapping) else None
        raise RulesUnavailable(
            f"inquiryCodeRules answered {status or 'no result'} {code or ''}".strip()
        )


class FetchError(RuntimeError):
    """inquiryCodeRules could not be fetched over HTTP."""


def http_fetcher(
    url: str, client_id: str, timeout: float = 5, extra_headers: Mapping[str, str] | None = None
) -> Fetch:
    """A `fetch()` that POSTs `{}` to an inquiryCodeRules URL the way the server SDK does:
    headers client-id, request-time (GMT+8) and the SDK's placeholder signature."""

    import urllib.error  # imported here: urllib.request costs ~30 ms and most callers inject fetch
    import urllib.request

    def fetch() -> Mapping[str, Any]:
        request_time = datetime.now(timezone(timedelta(hours=8))).isoformat(timespec="seconds")
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "client-id": client_id,
            "request-time": request_time,
            "signature": PLACEHOLDER_SIGNATURE,
            **(extra_headers or {}),
        }
        request = urllib.request.Request(url, data=b"{}", headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise FetchError(f"HTTP {exc.code} from {url}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise FetchError(f"cannot reach {url}: {exc}") from exc
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise FetchError(f"{url} did not answer JSON") from exc
        if not isinstance(body, dict):
            raise FetchError(f"{url} did not answer a JSON object")
        return body

    return fetch
