"""One validator for every message: the JSON Schemas plus the domain rules schemas cannot say.

`validate(api, kind, message)` returns a list of `Violation(pointer, rule, message)`; an empty
list means the message is valid. Schemas are compiled once per process. Rule names are listed in
docs/contracts.md. The package is split by subject: `schemas` (loading and compiled checks),
`violations` (schema errors as sentences), `domain` (the rule registry), `fields`, `results`
and `conversion` (the rules), `validator` (validate itself).
"""

from __future__ import annotations

from contracts.validation.domain import domain_rule
from contracts.validation.fields import parse_datetime
from contracts.validation.schemas import (
    APIS,
    KINDS,
    SCHEMA_BASE,
    SCHEMA_DIR,
    fast_check,
    registry,
    schema,
    schema_path,
)
from contracts.validation.validator import is_valid, validate
from contracts.validation.violations import Violation, pointer

__all__ = [
    "APIS",
    "KINDS",
    "SCHEMA_BASE",
    "SCHEMA_DIR",
    "Violation",
    "domain_rule",
    "fast_check",
    "is_valid",
    "parse_datetime",
    "pointer",
    "registry",
    "schema",
    "schema_path",
    "validate",
]
