"""The dependency rules of docs/ARCHITECTURE.md, enforced on the source.

Walks the AST of every module under contracts/, simulator/ and mpp_reference/; every import
statement counts, including those inside functions and under `if TYPE_CHECKING:` (a module
imported by name with importlib, as create_app imports its areas, does not). Fails on:

- `contracts` importing `simulator` or `mpp_reference`;
- `simulator` and `mpp_reference` importing each other;
- any import cycle (the cycle's modules are named);
- a module importing a layer above its own (the order is the "Layers" block of
  docs/ARCHITECTURE.md, read by this test: the document is the rule);
- a module of a package divided into layers that no layer names;
- a production module over 400 lines.

The same `check` runs on tiny packages built in tmp_path, to show that it does fail.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
PACKAGES = ("contracts", "simulator", "mpp_reference")
MAX_LINES = 400
# Who may not import whom, whatever the layers say.
FORBIDDEN = {
    "contracts": ("simulator", "mpp_reference"),
    "simulator": ("mpp_reference",),
    "mpp_reference": ("simulator",),
}
MAX_CYCLES_REPORTED = 25

Layers = list[tuple[str, tuple[str, ...]]]


@dataclass(frozen=True)
class Import:
    """`importer` imports `imported` (both modules of the tree) at `where` (file:line)."""

    importer: str
    imported: str
    where: str


def find_modules(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Every module of `packages` under `root`, by dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of `name` that is a module of the tree (None: not ours)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def _base(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module a `from ... import` names (relative levels resolved)."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    anchor = package[: len(package) - (node.level - 1)]
    return ".".join(anchor + ([node.module] if node.module else []))


def find_imports(root: Path, modules: dict[str, Path]) -> list[Import]:
    """Every import between modules of the tree, wherever the statement stands."""
    found = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _base(module, path, node)
                names = [f"{base}.{alias.name}" for alias in node.names] or [base]
                names = [name if name in modules else base for name in names]
            else:
                continue
            where = f"{path.relative_to(root)}:{node.lineno}"
            for name in names:
                target = _known(name, modules)
                if target is not None and target != module:
                    found.append(Import(module, target, where))
    return found


def read_layers(document: Path = ARCHITECTURE) -> Layers:
    """The layer order of the document's "## Layers" section: its first ```text block."""
    text = document.read_text(encoding="utf-8")
    section = re.search(r"^## Layers\b.*?^```text\n(.*?)^```", text, re.M | re.S)
    if section is None:
        raise AssertionError(f"{document} has no '## Layers' section with a ```text block")
    layers: Layers = []
    for line in section.group(1).splitlines():
        name, sep, names = line.partition(":")
        if sep and names.split():
            layers.append((name.strip(), tuple(names.split())))
    return layers


def _layer_of(module: str, layers: Layers) -> int | None:
    """The index of the layer naming `module` (the longest name covering it wins)."""
    covering = [
        (len(name), index, name)
        for index, (_, names) in enumerate(layers)
        for name in names
        if module == name or module.startswith(name + ".")
    ]
    if not covering:
        return None
    _, index, name = max(covering)
    # A package divided into layers covers only its own __init__: every other module of it
    # must be named (or fall under a named subpackage).
    if module != name and any(n.startswith(name + ".") for _, ns in layers for n in ns):
        return None
    return index


def _cycles(imports: list[Import]) -> list[list[str]]:
    """Import cycles, each as [a, b, ..., a] where each module imports the next."""
    graph: dict[str, set[str]] = defaultdict(set)
    for item in imports:
        graph[item.imported].add(item.importer)  # graphlib: node -> the nodes it comes after
    found = []
    while len(found) < MAX_CYCLES_REPORTED:
        try:
            TopologicalSorter(graph).prepare()
        except CycleError as exc:
            cycle = exc.args[1]  # each node comes before the next: here, is imported by it
            found.append(cycle[::-1])
            graph[cycle[1]].discard(cycle[0])  # break this edge and look for the next cycle
        else:
            break
    return found


def check(
    root: Path,
    layers: Layers,
    packages: Iterable[str] = PACKAGES,
    max_lines: int = MAX_LINES,
) -> list[str]:
    """Every broken rule in the tree under `root`, in words (empty: all rules hold)."""
    modules = find_modules(root, packages)
    imports = find_imports(root, modules)
    problems = []
    for item in imports:
        top, target_top = item.importer.split(".")[0], item.imported.split(".")[0]
        if target_top in FORBIDDEN.get(top, ()):
            problems.append(f"{item.where}: {top} must not import {target_top} ({item.imported})")
    for cycle in _cycles(imports):
        problems.append("import cycle: " + " -> ".join(cycle))
    placed = {module: _layer_of(module, layers) for module in modules}
    for module, layer in sorted(placed.items()):
        if layer is None:
            problems.append(f"{module} is in no layer: name it in docs/ARCHITECTURE.md's Layers")
    for item in imports:
        mine, theirs = placed[item.importer], placed[item.imported]
        if mine is not None and theirs is not None and theirs > mine:
            problems.append(
                f"{item.where}: {item.importer} ({layers[mine][0]}) imports {item.imported}, "
                f"a layer above it ({layers[theirs][0]})"
            )
    for path in sorted(modules.values()):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > max_lines:
            problems.append(f"{path.relative_to(root)} has {lines} lines (at most {max_lines})")
    return problems


# -- the rules on this source tree ---------------------------------------------------------------


def test_the_source_keeps_the_dependency_rules():
    problems = check(ROOT, read_layers())
    assert problems == [], "\n".join(problems)


def test_the_documented_order_names_the_three_packages_lowest_first():
    layers = read_layers()
    assert layers[0] == ("contracts", ("contracts",))
    names = [name for _, names in layers for name in names]
    assert {"simulator", "simulator.control", "simulator.ui", "mpp_reference"} <= set(names)
    assert len(names) == len(set(names)), "a module is named in two layers"


# -- the checker fails when it should: tiny trees in tmp_path ------------------------------------

TINY_LAYERS: Layers = [
    ("contracts", ("contracts",)),
    ("base", ("simulator", "simulator.db")),
    ("engine", ("simulator.engine",)),
    ("control", ("simulator.control",)),
    ("wallet", ("mpp_reference",)),
]


def build(tmp_path: Path, files: dict[str, str]) -> Path:
    """A tree of the three packages (empty __init__ files) plus `files` (path -> source)."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for name, source in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return tmp_path


CLEAN = {
    "contracts/money.py": "import json\n",
    "simulator/db.py": "from contracts import money\n",
    "simulator/engine/__init__.py": "from simulator.engine.pay import pay\n",
    "simulator/engine/pay.py": "from simulator import db\nfrom ..db import x\n\ndef pay(): ...\n",
    "simulator/control/__init__.py": "from . import views\n",
    "simulator/control/views.py": "import simulator.engine.pay\nfrom simulator import db\n",
    "mpp_reference/app.py": "from contracts.money import x\n",
}


def test_a_tree_that_keeps_the_rules_passes(tmp_path):
    assert check(build(tmp_path, CLEAN), TINY_LAYERS) == []


def test_a_cycle_fails_and_names_its_modules(tmp_path):
    tree = build(
        tmp_path,
        {
            **CLEAN,
            "simulator/engine/pay.py": "def pay():\n    from simulator.engine import notify\n",
            "simulator/engine/notify.py": "from simulator.engine.pay import pay\n",
        },
    )
    problems = check(tree, TINY_LAYERS)
    assert len(problems) == 1, problems
    assert problems[0].startswith("import cycle: ")
    cycle = problems[0].removeprefix("import cycle: ").split(" -> ")
    assert set(cycle) == {"simulator.engine.pay", "simulator.engine.notify"}
    assert cycle[0] == cycle[-1]


def test_a_cycle_through_a_relative_import_under_type_checking_fails(tmp_path):
    tree = build(
        tmp_path,
        {
            **CLEAN,
            "simulator/engine/pay.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from .notify import Notice\n",
            "simulator/engine/notify.py": "from . import pay\n",
        },
    )
    assert any(p.startswith("import cycle: ") for p in check(tree, TINY_LAYERS))


def test_an_upward_import_fails_even_inside_a_function(tmp_path):
    source = "def notify():\n    from simulator.control import views\n"
    tree = build(tmp_path, {**CLEAN, "simulator/engine/notify.py": source})
    assert check(tree, TINY_LAYERS) == [
        "simulator/engine/notify.py:2: simulator.engine.notify (engine) imports "
        "simulator.control.views, a layer above it (control)"
    ]


def test_contracts_may_not_import_the_simulator_or_the_wallet(tmp_path):
    source = "import simulator.db\nfrom mpp_reference import app\n"
    problems = check(build(tmp_path, {**CLEAN, "contracts/money.py": source}), TINY_LAYERS)
    assert "contracts/money.py:1: contracts must not import simulator (simulator.db)" in problems
    assert "contracts/money.py:2: contracts must not import mpp_reference (mpp_reference.app)" in (
        problems
    )


def test_the_simulator_and_the_wallet_may_not_import_each_other(tmp_path):
    tree = build(
        tmp_path,
        {
            **CLEAN,
            "mpp_reference/app.py": "from simulator.engine import pay\n",
            "simulator/control/views.py": "import mpp_reference.app\n",
        },
    )
    problems = check(tree, TINY_LAYERS)
    assert (
        "mpp_reference/app.py:1: mpp_reference must not import simulator (simulator.engine.pay)"
        in (problems)
    )
    assert any(p.startswith("simulator/control/views.py:1: simulator must not") for p in problems)


def test_a_module_no_layer_names_fails(tmp_path):
    tree = build(tmp_path, {**CLEAN, "simulator/stray.py": "x = 1\n"})
    assert check(tree, TINY_LAYERS) == [
        "simulator.stray is in no layer: name it in docs/ARCHITECTURE.md's Layers"
    ]


def test_a_module_over_the_size_limit_fails(tmp_path):
    tree = build(tmp_path, {**CLEAN, "simulator/db.py": "x = 1\n" * 401})
    assert check(tree, TINY_LAYERS) == ["simulator/db.py has 401 lines (at most 400)"]


def test_the_layers_are_read_from_the_document(tmp_path):
    document = tmp_path / "ARCHITECTURE.md"
    document.write_text(
        "# A\n\n## Layers\n\nLowest first.\n\n```text\ncontracts: contracts\n"
        "base:      simulator simulator.db\n```\n\n```text\nnot: this\n```\n"
    )
    assert read_layers(document) == [
        ("contracts", ("contracts",)),
        ("base", ("simulator", "simulator.db")),
    ]
    document.write_text("# A\n\nno layers here\n")
    with pytest.raises(AssertionError, match="no '## Layers' section"):
        read_layers(document)
