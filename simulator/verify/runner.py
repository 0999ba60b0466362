"""Run the catalogue against one wallet: select, run each scenario isolated, judge, clean up."""

from __future__ import annotations

import fnmatch
import random
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import requests

from simulator.verify import checks
from simulator.verify.client import ControlError, Hook, SimClient, check_setup
from simulator.verify.scenario import (
    CATALOGUE,
    Context,
    Scenario,
    ScenarioFailed,
    ScenarioSkipped,
)

# The scenario modules register themselves on import, in this order (the catalogue's order).
from simulator.verify import (  # noqa: F401  isort: skip
    scenarios_flow,
    scenarios_retry,
    scenarios_calls,
    scenarios_refunds,
    scenarios_forced,
)

VERDICTS = ("passed", "failed", "error", "skipped")


@dataclass
class Result:
    """One scenario's verdict, with the evidence behind it."""

    name: str
    checks: str
    section: str
    family: str
    verdict: str  # passed | failed | error | skipped
    seconds: float
    rule: str = ""  # the rule broken (failed), the reason (skipped), the error (error)
    detail: str = ""
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


@dataclass
class Run:
    """A whole run: where, when, and every result."""

    sim_url: str
    client_id: str
    hook_url: str
    clock: str
    seed: int
    started: str
    seconds: float = 0.0
    results: list[Result] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many scenarios got each verdict."""
        return {v: sum(1 for r in self.results if r.verdict == v) for v in VERDICTS}

    @property
    def ok(self) -> bool:
        """True when nothing failed and nothing errored."""
        counts = self.counts()
        return counts["failed"] == 0 and counts["error"] == 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "simulator": self.sim_url,
            "clientId": self.client_id,
            "hook": self.hook_url,
            "clock": self.clock,
            "seed": self.seed,
            "started": self.started,
            "seconds": round(self.seconds, 2),
            "counts": self.counts(),
            "results": [r.as_dict() for r in self.results],
        }


def select(only: str | None = None) -> list[Scenario]:
    """The scenarios whose name matches any comma-separated glob (a plain word: substring)."""
    if not only:
        return list(CATALOGUE.values())
    patterns = [p.strip() for p in only.split(",") if p.strip()]
    return [
        s
        for s in CATALOGUE.values()
        if any(
            fnmatch.fnmatchcase(s.name, p if any(c in p for c in "*?[") else f"*{p}*")
            for p in patterns
        )
    ]


def run_one(spec: Scenario, ctx: Context) -> Result:
    """Run one scenario in its context; never raises."""
    started = time.monotonic()
    verdict, rule, detail = "passed", "", ""
    try:
        if spec.virtual_clock and not ctx.virtual:
            raise ScenarioSkipped("needs a virtual clock: start the simulator with --clock virtual")
        spec.run(ctx)
        checks.wallet_messages_conform(ctx, ctx.evidence())
        checks.answers_in_time(ctx, ctx.evidence())
    except ScenarioFailed as exc:
        verdict, rule, detail = "failed", exc.rule, exc.detail
    except ScenarioSkipped as exc:
        verdict, rule = "skipped", str(exc)
    except (ControlError, requests.RequestException) as exc:
        verdict, rule, detail = "error", f"{type(exc).__name__}: {exc}", ""
    except Exception as exc:  # a bug in a scenario must not end the run
        verdict, rule = "error", f"{type(exc).__name__}: {exc}"
        detail = traceback.format_exc(limit=4)
    evidence: list[dict[str, Any]] = []
    try:
        evidence = ctx.evidence()
        ctx.cleanup()
    except (ControlError, requests.RequestException) as exc:
        if verdict == "passed":
            verdict, rule = "error", f"clean-up failed: {exc}"
    return Result(
        spec.name,
        spec.checks,
        spec.section,
        spec.family,
        verdict,
        round(time.monotonic() - started, 2),
        rule,
        detail,
        evidence,
    )


def run(
    sim_url: str,
    client_id: str,
    hook_url: str,
    *,
    only: str | None = None,
    seed: int | None = None,
    customer_id: str | None = None,
    patience: float = 20.0,
    progress: Callable[[Result], None] | None = None,
) -> Run:
    """Check the setup (SetupError), then run the selected scenarios one after another."""
    sim = SimClient(sim_url, client_id)
    hook = Hook(hook_url, customer_id)
    clock = check_setup(sim, hook)
    currency = sim.participant().get("walletCurrency") or "KRW"
    seed = seed if seed is not None else random.SystemRandom().randrange(10**6)
    outcome = Run(sim_url, client_id, hook_url, clock.get("mode", "real"), seed, clock["now"])
    started = time.monotonic()
    for index, spec in enumerate(select(only)):
        ctx = Context(
            sim=sim,
            hook=hook,
            virtual=clock.get("mode") == "virtual",
            rng=random.Random(f"{seed}:{index}:{spec.name}"),
            currency=currency,
            patience=patience,
        )
        result = run_one(spec, ctx)
        outcome.results.append(result)
        if progress:
            progress(result)
    outcome.seconds = time.monotonic() - started
    return outcome
