"""The architecture holds: each layer of the package imports only the layers below it, so
there is no package cycle (checked from the source, imports inside functions and under
TYPE_CHECKING included)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "steppe"

#: the layers, lowest first; a package may import its own modules and any lower layer
LAYERS: list[set[str]] = [
    {"errors", "_version"},
    {"rng", "rounding", "distributions", "priors", "state", "inputs"},
    {"scenario", "population"},
    {"networks"},
    {"models"},
    {"observe"},
    {"pressures"},
    {"engine"},
    {"assembly", "validation"},
    {"experiments"},
    {"report"},
    {"explore"},
    {"cli_sweep", "cli_sensitivity", "cli_design", "cli_calibrate", "cli_explore"},
    {"cli", "__init__"},
    {"__main__"},
]
LEVEL = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}


def _package(rel: Path) -> str:
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem


def imports(source: str, rel: Path) -> set[str]:
    """The top-level steppe packages a module (at ``rel`` inside the package) imports."""
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(rel.parts[:-1])
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = base + [m for m in (node.module or "").split(".") if m]
                if not target and node.names:  # "from .. import x"
                    target = [node.names[0].name]
            elif (node.module or "").startswith("steppe."):
                target = node.module.split(".")[1:]
            else:
                continue
            if target:
                out.add(target[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("steppe."):
                    out.add(alias.name.split(".")[1])
    return out


def violations(edges: dict[str, set[str]]) -> list[str]:
    """Every import of a layer that is not below the importer's."""
    bad = []
    for pkg, targets in sorted(edges.items()):
        for t in sorted(targets - {pkg}):
            if t not in LEVEL:
                bad.append(f"{pkg} imports {t}, which is in no layer")
            elif LEVEL[t] >= LEVEL[pkg]:
                bad.append(f"{pkg} (layer {LEVEL[pkg]}) imports {t} (layer {LEVEL[t]})")
    return bad


def package_edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        edges.setdefault(_package(rel), set()).update(imports(path.read_text(), rel))
    return edges


def test_every_package_is_in_a_layer():
    packages = {_package(p.relative_to(SRC)) for p in SRC.rglob("*.py")}
    assert packages <= set(LEVEL), sorted(packages - set(LEVEL))


def test_layers_import_only_downwards():
    assert violations(package_edges()) == []


@pytest.mark.parametrize(("source", "rel", "found"), [
    ("from ..engine.simulate import simulate\n", Path("scenario/loader.py"), "engine"),
    ("def f():\n    from ..report import make_report\n", Path("experiments/x.py"), "report"),
    ("import steppe.assembly\n", Path("models/voter.py"), "assembly"),
    ("from . import schema\n", Path("scenario/messages.py"), "scenario"),
])
def test_the_check_sees_upward_imports(source, rel, found):
    """The check is not vacuous: an upward import, even inside a function, is caught."""
    got = imports(source, rel)
    assert found in got
    edges = {_package(rel): got}
    if found != _package(rel):
        assert violations(edges)
