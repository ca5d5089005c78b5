"""Root confinement and what the explorer recognises (no browser, no web framework)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from steppe.errors import SteppeError
from steppe.explore.paths import classify, find_sources, inside, open_path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    (r / "results" / "a" / "calibration").mkdir(parents=True)
    (r / "results" / "a" / "series.parquet").write_bytes(b"x")
    (r / "sweep").mkdir()
    (r / "sweep" / "manifest.json").write_text("{}")
    (r / "sweep" / "series" / "point-00000").mkdir(parents=True)
    (r / "s.toml").write_text("name = 's'\nmodel = { name = 'voter' }")
    (r / "pyproject.toml").write_text("[project]\nname = 'not a scenario'\n")
    (r / "notes.txt").write_text("not a scenario")
    (tmp_path / "secret.toml").write_text("name = 'outside'")
    return r


@pytest.mark.parametrize("bad", ["..", "../", "../secret.toml", "results/../../secret.toml",
                                 "/etc/passwd", "/", "~"])
def test_inside_refuses_what_resolves_outside(root, bad):
    with pytest.raises(SteppeError, match="outside the folder the explorer was opened on"):
        inside(root, bad)


def test_inside_refuses_an_absolute_path_elsewhere(root, tmp_path):
    with pytest.raises(SteppeError, match="outside"):
        inside(root, str(tmp_path / "secret.toml"))


def test_inside_refuses_a_link_pointing_out(root, tmp_path):
    os.symlink(tmp_path / "secret.toml", root / "link.toml")
    with pytest.raises(SteppeError, match="outside"):
        inside(root, "link.toml")
    assert "link.toml" not in [s.rel for s in find_sources(root)]


def test_inside_accepts_paths_inside(root):
    assert inside(root, "s.toml") == (root / "s.toml").resolve()
    assert inside(root, "results/./a/../a") == (root / "results" / "a").resolve()
    assert inside(root, str(root / "s.toml")) == (root / "s.toml").resolve()
    assert inside(root, "") == root.resolve()
    with pytest.raises(SteppeError, match="not a path"):
        inside(root, "s.toml\x00")


def test_classify_and_find_sources(root):
    assert classify(root / "results" / "a") == "results"
    assert classify(root / "sweep") == "sweep"
    assert classify(root / "results" / "a" / "calibration") is None  # empty folder
    (root / "results" / "a" / "calibration" / "calibration.json").write_text("{}")
    assert classify(root / "results" / "a" / "calibration") == "calibration"
    assert classify(root / "s.toml") == "scenario"
    assert classify(root / "notes.txt") is None
    found = [(s.kind, s.rel) for s in find_sources(root)]
    assert found == [("results", "results/a"), ("calibration", "results/a/calibration"),
                     ("scenario", "s.toml"), ("sweep", "sweep")]


def test_open_path(root):
    assert open_path(root / "s.toml")[0] == root.resolve()
    r, src = open_path(root / "results" / "a")
    assert r == (root / "results" / "a").resolve() and src.kind == "results"
    assert open_path(root) == (root.resolve(), None)
    with pytest.raises(SteppeError, match="no such file or folder"):
        open_path(root / "missing")
    with pytest.raises(SteppeError, match="not a scenario file"):
        open_path(root / "notes.txt")
    (root / "empty").mkdir()
    with pytest.raises(SteppeError, match="holds no results folder"):
        open_path(root / "empty")
