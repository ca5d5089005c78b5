"""``steppe explore`` as a user starts it: bad input gets one message naming the path or
option and exit status 2, no traceback; the page and its scripts come from the server
itself, on 127.0.0.1."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest


def steppe(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "steppe", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "s.toml").write_text("name = 's'\nmodel = { name = 'voter' }\n")
    (tmp_path / "notes.csv").write_text("a,b\n")
    (tmp_path / "empty").mkdir()
    return tmp_path


@pytest.mark.parametrize(("args", "message"), [
    (["missing"], r"missing: no such file or folder"),
    (["notes.csv"], r"notes.csv: not a scenario file"),
    (["empty"], r"empty: holds no results folder"),
    ([".", "--port", "70000"], r"--port 70000: not a port"),
    ([".", "--runs", "0"], r"--runs 0: runs per setting must be 1 to 50"),
])
def test_bad_input_is_one_message_and_status_2(folder, args, message):
    p = steppe("explore", *args, "--no-browser", cwd=folder)
    assert p.returncode == 2, p.stdout + p.stderr
    assert re.search(message, " ".join(p.stderr.split())), p.stderr
    assert "Traceback" not in p.stderr + p.stdout


def test_a_port_in_use_is_refused(folder):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = steppe("explore", ".", "--port", str(port), "--no-browser", cwd=folder)
    assert p.returncode == 2, p.stdout + p.stderr
    assert f"--port {port}: already in use on 127.0.0.1" in " ".join(p.stderr.split())
    assert "Traceback" not in p.stderr + p.stdout


def test_the_page_and_its_scripts_are_served_locally(explorer_url):
    """Without a browser: the page names no script, style or font outside the server
    (``--port 0`` printed the address; the server listens on 127.0.0.1)."""
    assert explorer_url.startswith("http://127.0.0.1:")
    html = urllib.request.urlopen(explorer_url + "?path=results/tiny", timeout=30).read()
    text = html.decode("utf-8")
    assert "<script" in text
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", text)
    outside = [r for r in refs if re.match(r"^(https?:)?//", r)
               and not r.startswith(explorer_url.rstrip("/"))]
    assert outside == []
    assert "cdn." not in text and "fonts.googleapis" not in text
    for r in refs:  # each local script and style is there
        if r.startswith(("static/", "/static/", "./static/")):
            url = explorer_url.rstrip("/") + "/" + r.lstrip("./").lstrip("/")
            assert urllib.request.urlopen(url, timeout=30).status == 200
