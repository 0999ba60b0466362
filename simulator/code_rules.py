"""The code rules inquiryCodeRules serves: the default set until replaced, then a new version.

`sim.code_rules` (PUT /_sim/code-rules replaces them; simulator/apis/inquiry_code_rules.py
serves them). One row, replaced as a whole, each time under a new version: a wallet keeps its
cache while the version is unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Engine, Integer, String, Table, Text, select

from contracts import validate
from contracts.wire import dumps
from simulator.db import metadata, read
from simulator.errors import success

DEFAULT_CODE_RULES = (
    Path(__file__).resolve().parent.parent / "fixtures" / "code_rules" / "default.json"
)

code_rules_table = Table(
    "code_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("version", String(16), nullable=False),
    Column("rules_json", Text, nullable=False),
)


class CodeRuleStore:
    """The code rules inquiryCodeRules serves; replaced as a whole, each time a new version."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _default(self) -> tuple[str, list[Any]]:
        if DEFAULT_CODE_RULES.exists():
            data = json.loads(DEFAULT_CODE_RULES.read_text(encoding="utf-8"))
            return str(data.get("version") or "1"), list(data.get("codeRules") or [])
        return "0", []

    def current(self) -> dict[str, Any]:
        """{"version", "codeRules"} as served now (the default set until replaced)."""
        with read(self.engine) as conn:
            row = conn.execute(select(code_rules_table).where(code_rules_table.c.id == 1)).first()
        if row is None:
            version, rules = self._default()
            return {"version": version, "codeRules": rules}
        return {"version": row.version, "codeRules": json.loads(row.rules_json)}

    def replace(self, rules: Any, version: Any = None) -> dict[str, Any]:
        """Serve `rules` from now on under `version` (or the next generated one)."""
        if not isinstance(rules, list):
            raise ValueError("codeRules must be a JSON array of CodeRule objects")
        if version is not None and (not isinstance(version, str) or not 0 < len(version) <= 16):
            raise ValueError("version must be a string of 1 to 16 characters")
        probe = {"result": success("inquiryCodeRules"), "codeRules": rules, "version": "probe"}
        problems = validate("inquiryCodeRules", "response", probe)
        if problems:
            raise ValueError(
                "; ".join(f"{p.pointer or '(root)'}: {p.message}" for p in problems[:5])
            )
        with self.engine.begin() as conn:
            row = conn.execute(select(code_rules_table).where(code_rules_table.c.id == 1)).first()
            old_version = row.version if row else self._default()[0]
            generation = (row.generation if row else 0) + 1
            new_version = version or f"sim_{generation}"
            if new_version == old_version:
                raise ValueError(
                    f"version {new_version!r} is the one served now; a new rule set needs a "
                    "new version (or leave it out to get one)"
                )
            values = {"generation": generation, "version": new_version, "rules_json": dumps(rules)}
            if row is None:
                conn.execute(code_rules_table.insert().values(id=1, **values))
            else:
                conn.execute(
                    code_rules_table.update().where(code_rules_table.c.id == 1).values(**values)
                )
        return {"version": new_version, "codeRules": rules}
