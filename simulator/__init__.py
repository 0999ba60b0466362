"""aplus-sim: a local, offline stand-in for the Alipay+ network as a wallet (MPP) sees it."""

from __future__ import annotations

import importlib
from typing import Any

from flask import Flask

from simulator.config import SimConfig
from simulator.db import make_engine, metadata, release
from simulator.state import Sim

__version__ = "0.1.0"

# Each area is a module with `init_app(app)`; tables are declared on simulator.db.metadata at
# import time, so all modules are imported before the tables are created.
AREAS = (
    "simulator.clock",
    "simulator.keys",
    "simulator.journal",
    "simulator.scheduler",
    "simulator.payments",
    "simulator.faults",
    "simulator.apis",
    "simulator.control",
    "simulator.ui",
    "simulator.merchant",
)


def create_app(config: SimConfig | dict[str, Any] | None = None) -> Flask:
    """Build a simulator app from a SimConfig, a dict of its fields, or APLUS_SIM_* variables."""
    cfg = SimConfig.from_any(config)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__)
    app.config["TESTING"] = cfg.testing
    sim = Sim(config=cfg, engine=make_engine(cfg.database_url))
    app.extensions["aplus_sim"] = sim
    app.teardown_appcontext(release)  # the request's DB-API connection (simulator.db.raw)
    modules = [importlib.import_module(name) for name in AREAS]
    metadata.create_all(sim.engine)
    for module in modules:
        module.init_app(app)
    return app
