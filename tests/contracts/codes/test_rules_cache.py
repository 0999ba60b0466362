"""RulesCache: REMOTE -> STORAGE -> PRESET at start, refresh semantics, storage, HTTP fetcher."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.wrappers import Request, Response

from contracts.codes import CodeIdentifier, FetchError, RulesCache, http_fetcher
from tests.support.live_server import live_server

from .helpers import body, open_url, rule

V1 = body(rule("PREFIX", prefix="28166604"), version="v1")
V2 = body(rule("PREFIX", prefix="28166604", action=open_url("USE_DIRECTLY")), version="v2")
FAILED = {"result": {"resultCode": "UNKNOWN_EXCEPTION", "resultStatus": "U", "resultMessage": "x"}}


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 9, 12, 1, 14, 148000, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Remote:
    """A scripted inquiryCodeRules: answers the queued bodies (or raises queued exceptions)."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def make(tmp_path, remote, **kw):
    clock = kw.pop("clock", None) or FakeClock()
    cache = RulesCache(remote, tmp_path / "rules", clock=clock, **kw)
    return cache, clock


def test_init_from_remote_persists_and_schedules_refresh(tmp_path):
    cache, clock = make(tmp_path, Remote(V1))
    init = cache.init()
    assert init.ok and init.source == "REMOTE" and init.version == "v1"
    assert init.result["resultCode"] == "SUCCESS"
    stored = json.loads((tmp_path / "rules" / "route_rule_config.json").read_text())
    assert stored["version"] == "v1"
    assert cache.next_refresh_at == clock.now + timedelta(minutes=30)


def test_init_falls_back_to_storage_when_remote_fails(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "route_rule_config.json").write_text(json.dumps(V2))
    for failure in (ConnectionError("down"), FAILED, {"result": V1["result"], "codeRules": []}):
        cache, clock = make(tmp_path, Remote(failure))
        init = cache.init()
        assert init.source == "STORAGE", failure
        assert cache.version == "v2"
        assert cache.next_refresh_at == clock.now + timedelta(minutes=2)


def test_init_falls_back_to_the_bundled_preset(tmp_path):
    cache, _ = make(tmp_path, Remote(ConnectionError("down")))
    init = cache.init()
    assert init.source == "PRESET" and init.version == "1"
    assert CodeIdentifier(cache).rules.version == "1"
    assert len(init.errors) == 2  # remote and storage both said why


@pytest.mark.parametrize(
    ("level", "code"),
    [
        ("REMOTE", "REMOTE_CONFIG_UPDATE_FAILED"),
        ("STORAGE", "STORAGE_CONFIG_LOAD_FAILED"),
        ("PRESET", "INIT_CONFIG_IS_INVALID"),
        ("CLOUD", "PARAM_ILLEGAL"),
    ],
)
def test_init_level_limits_the_fallback(tmp_path, level, code):
    cache, _ = make(
        tmp_path,
        Remote(ConnectionError("down")),
        init_level=level,
        preset_path=tmp_path / "missing.json",
    )
    init = cache.init()
    assert not init.ok
    assert init.result["resultStatus"] == "F" and init.result["resultCode"] == code


def test_refresh_failure_keeps_the_old_rules_and_retries_sooner(tmp_path):
    remote = Remote(V1, FAILED)
    cache, clock = make(tmp_path, remote)
    cache.init()
    outcome = cache.refresh()
    assert outcome.status == "FAILED" and cache.version == "v1"
    assert cache.next_refresh_at == clock.now + timedelta(minutes=2)
    remote.answers = [ConnectionError("down")]
    assert cache.refresh().status == "FAILED" and cache.version == "v1"


def test_same_version_or_empty_list_changes_nothing(tmp_path):
    remote = Remote(V1)
    cache, _ = make(tmp_path, remote)
    cache.init()
    assert cache.refresh().status == "UNCHANGED"
    remote.answers = [{**V2, "codeRules": []}]
    assert cache.refresh().status == "UNCHANGED"
    assert cache.version == "v1"
    assert not list((tmp_path / "rules").glob("route_rule_config.json.*"))


def test_new_version_replaces_persists_and_backs_up_the_old_file(tmp_path):
    remote = Remote(V1)
    cache, clock = make(tmp_path, remote)
    cache.init()
    identifier = CodeIdentifier(cache)
    assert identifier.identify_code("28166604x").post_code_match_action_type == "DECODE"
    remote.answers = [V2]
    clock.advance(60)
    assert cache.refresh().status == "UPDATED"
    assert identifier.identify_code("28166604x").post_code_match_action_type == "OPEN_URL"
    folder = tmp_path / "rules"
    assert json.loads((folder / "route_rule_config.json").read_text())["version"] == "v2"
    backups = sorted(p.name for p in folder.glob("route_rule_config.json.*"))
    assert backups == ["route_rule_config.json.202601091202148"]  # yyyyMMddHHmm + millis
    assert json.loads((folder / backups[0]).read_text())["version"] == "v1"


def test_maybe_refresh_follows_the_timer(tmp_path):
    remote = Remote(V1)
    cache, clock = make(tmp_path, remote)
    cache.init()
    assert remote.calls == 1
    clock.advance(29 * 60)
    assert cache.maybe_refresh() is None and remote.calls == 1
    clock.advance(60)
    assert cache.maybe_refresh().status == "UNCHANGED" and remote.calls == 2
    remote.answers = [FAILED]
    clock.advance(30 * 60)
    assert cache.maybe_refresh().status == "FAILED"
    remote.answers = [V2]
    clock.advance(60)
    assert cache.maybe_refresh() is None
    clock.advance(60)
    assert cache.maybe_refresh().status == "UPDATED" and cache.version == "v2"


def test_a_cache_started_from_preset_tries_remote_on_first_identify(tmp_path):
    remote = Remote(ConnectionError("down"), V2)
    cache, _ = make(tmp_path, remote)
    assert cache.init().source == "PRESET"
    identifier = CodeIdentifier(cache)
    result = identifier.identify_code("28166604x")
    assert cache.version == "v2" and result.post_code_match_action_type == "OPEN_URL"
    calls = remote.calls
    identifier.identify_code("28166604x")
    assert remote.calls == calls  # only once


def test_reads_during_refreshes_always_see_a_whole_rule_set(tmp_path):
    remote = Remote(V1)
    cache, _ = make(tmp_path, remote)
    cache.init()
    identifier = CodeIdentifier(cache)
    seen: set[str] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.add(identifier.identify_code("28166604x").post_code_match_action_type)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for n in range(20):
        remote.answers = [V2 if n % 2 else V1 | {"version": f"v1-{n}"}]
        cache.refresh()
    stop.set()
    for t in threads:
        t.join()
    assert seen <= {"DECODE", "OPEN_URL"} and seen


def test_background_thread_refreshes_when_due(tmp_path):
    fetched = threading.Event()
    answers = [V1, V2]

    def fetch():
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if answer is V2:
            fetched.set()
        return answer

    cache, clock = make(tmp_path, fetch)
    cache.init()
    clock.advance(31 * 60)
    thread = cache.start_background(poll_seconds=0.01)
    try:
        assert fetched.wait(5)
    finally:
        thread.stop()
    assert cache.version == "v2"


def _rules_app(status=200, answer=V1, seen=None):
    def app(environ, start_response):
        request = Request(environ)
        if seen is not None:
            seen.append((request.method, request.path, dict(request.headers), request.get_data()))
        return Response(json.dumps(answer), status=status, mimetype="application/json")(
            environ, start_response
        )

    return app


def test_http_fetcher_posts_like_the_server_sdk():
    seen = []
    with live_server(_rules_app(seen=seen)) as server:
        fetch = http_fetcher(f"{server.url}/aps/api/v1/codes/inquiryCodeRules", "CLIENT_9")
        assert fetch()["version"] == "v1"
    method, path, headers, data = seen[0]
    assert (method, path, data) == ("POST", "/aps/api/v1/codes/inquiryCodeRules", b"{}")
    assert headers["Client-Id"] == "CLIENT_9"
    assert headers["Signature"] == "algorithm=RSA256, keyVersion=2, signature=testing_signature"
    assert headers["Request-Time"].endswith("+08:00")


def test_http_fetcher_errors():
    with live_server(_rules_app(status=500)) as server:
        with pytest.raises(FetchError, match="HTTP 500"):
            http_fetcher(server.url, "C")()
        url = server.url
    with pytest.raises(FetchError, match="cannot reach"):
        http_fetcher(url, "C", timeout=2)()


def test_cache_over_http_end_to_end(tmp_path):
    with live_server(_rules_app(answer=V2)) as server:
        cache = RulesCache(http_fetcher(server.url, "C"), tmp_path)
        assert cache.init().source == "REMOTE"
    assert CodeIdentifier(cache).identify_code("28166604x").redirect_url == "28166604x"


def test_a_clock_object_with_now_is_accepted(tmp_path):
    class ClockObject:
        def __init__(self) -> None:
            self.at = datetime(2026, 5, 1, tzinfo=UTC)

        def now(self) -> datetime:
            return self.at

    clock = ClockObject()
    cache = RulesCache(Remote(V1), tmp_path, clock=clock)
    cache.init()
    assert cache.next_refresh_at == clock.at + timedelta(minutes=30)
