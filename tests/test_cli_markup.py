"""No help text or table the command line prints loses text to rich's markup: a phrase in
square brackets ("[population]", "[[assumptions]]", "[min x̂*, max x̂*]") must print as
written, on every command's ``--help`` and in ``steppe validate``'s table."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import click
import pytest
import typer
from typer.testing import CliRunner

from steppe.cli import app

#: what rich draws around help panels and tables
_BOX = re.compile(r"[│┃║╭╮╰╯─━═┏┓┗┛┡┩┣┫╇╈┼┬┴├┤]")


def _flat(text: str) -> str:
    """Text without box drawing and with every run of white space one space (a phrase
    wrapped over two lines still reads as one)."""
    return " ".join(_BOX.sub(" ", text).split())


def _texts(cmd: click.Command, path: list[str]) -> list[tuple[list[str], str]]:
    out = [(path, cmd.help or "")]
    out += [(path, getattr(p, "help", None) or "") for p in cmd.params]
    for name, sub in getattr(cmd, "commands", {}).items():
        out += _texts(sub, [*path, name])
    return out


TEXTS = _texts(typer.main.get_command(app), [])
COMMANDS = sorted({tuple(p) for p, _ in TEXTS})


def test_the_help_texts_hold_phrases_in_brackets():
    """The check below would be empty without them: at least the run and sensitivity
    commands' help holds one."""
    bracketed = [t for _, t in TEXTS if "[" in t]
    assert len(bracketed) >= 2


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "steppe")
def test_help_prints_every_bracketed_phrase(path):
    res = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"},
                             terminal_width=200)
    assert res.exit_code == 0, res.output
    shown = _flat(res.output)
    for p, text in TEXTS:
        if list(path) != p:
            continue
        written = text.replace("\\[", "[")  # rich's escape, as the source writes it
        for phrase in re.findall(r"\[+[^\[\]]*\]+", written):
            assert _flat(phrase) in shown, (phrase, res.output)


def test_validate_table_prints_bracketed_phrases():
    """Row "epo: expressed opinions agree more closely…" expects "[min x̂*, max x̂*] ⊆ [min
    x*, max x*]": both brackets must reach the table."""
    # a process of its own: the console takes its width from COLUMNS when it is made
    res = subprocess.run([sys.executable, "-m", "steppe", "validate", "--quick", "--model",
                          "epo"], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "COLUMNS": "250"})
    assert res.returncode == 0, res.stdout + res.stderr
    shown = _flat(res.stdout)
    assert "[min x̂*, max x̂*]" in shown and "[min x*, max x*]" in shown, res.stdout
