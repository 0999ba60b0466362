"""`aplus-sim verify`: the conformance kit that judges a wallet over HTTP only.

It drives the wallet's user through the wallet's test hook, provokes reactions through the
simulator's control plane (orders, fault rules, the virtual clock, merchant cancels and refunds)
and judges every exchange from the simulator's journal. Layout: `client` (the two HTTP
parties), `scenario` (registry and context), `checks` (shared judgements), `scenarios_*` (the
catalogue), `runner` (selection, isolation, verdicts), `reports` (JUnit, JSON, HTML).
See docs/verify.md.
"""
