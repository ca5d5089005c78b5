"""The documentation site: `mkdocs build --strict` passes, and the tutorials run.

Each page of ``docs/tutorials/``, and the home page (its quick start), is executed as
written, in its own temporary folder:

- a fenced block with a ``title="NAME"`` (```` ```toml title="arcadia.toml" ````) is a file
  the reader saves: it is written to ``NAME`` (a second block with the same title is
  appended to it, as the page then says);
- ```` ```python ```` blocks run in order in one namespace per page; a ```` ```text
  title="Output" ```` block right after one is what it prints;
- ```` ```console ```` blocks: each ``$ command`` runs in a shell (``steppe`` is this
  environment's), must succeed, and prints what the lines under it show;
- an HTML comment ``<!-- docs-test: skip -->`` right before a block leaves it out (an R
  snippet, a command that needs a cluster); blocks in other languages are shown only.

Expected output matches line by line after trailing spaces are stripped; ``...`` stands
for any text (timings, paths), as in doctest's ELLIPSIS.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TUTORIALS = sorted(p for p in (DOCS / "tutorials").glob("*.md") if p.name != "index.md")
#: pages whose examples run too: the tutorials and the home page's quick start
EXECUTED = [DOCS / "index.md", *TUTORIALS]

_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_TITLE = re.compile(r'title="(?P<title>[^"]+)"')
_SKIP = "<!-- docs-test: skip -->"


@dataclass
class Block:
    lang: str
    title: str | None
    body: str
    line: int
    skip: bool


def blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown page (top level only, as the tutorials write them).

    Examples
    --------
    >>> page = ("x\\n<!-- docs-test: skip -->\\n```r\\n1\\n```\\n"
    ...         "```text title=\\"Output\\"\\nok\\n```\\n")
    >>> [(b.lang, b.title, b.body, b.skip) for b in blocks(page)]
    [('r', None, '1\\n', True), ('text', 'Output', 'ok\\n', False)]
    """
    out: list[Block] = []
    lines = text.splitlines()
    i = 0
    previous = ""
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            if lines[i].strip():
                previous = lines[i].strip()
            i += 1
            continue
        fence, info = m["fence"], m["info"].strip()
        start = i + 1
        j = start
        while j < len(lines) and lines[j].strip() != fence:
            j += 1
        lang = info.split()[0].strip("{}.") if info else ""
        t = _TITLE.search(info)
        out.append(Block(lang, t["title"] if t else None,
                         "\n".join(lines[start:j]) + "\n", start, previous == _SKIP))
        previous = ""
        i = j + 1
    return out


def _pattern(expected: str) -> re.Pattern[str]:
    """A line that is only ``...`` stands for any number of lines (none included)."""
    lines = _clean(expected).split("\n")
    regex = ""
    for k, line in enumerate(lines):
        last = k == len(lines) - 1
        if line.strip() == "...":
            regex = regex[:-1] + r"(?:\n.*)?" if last and regex else regex + r"(?:.*?\n)?"
            if last and not regex.endswith(r"(?:\n.*)?"):
                regex += ".*"
            continue
        regex += ".*?".join(re.escape(p) for p in line.split("...")) + ("" if last else "\n")
    return re.compile(regex, re.DOTALL)


def _clean(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def matches(expected: str, got: str) -> bool:
    """Whether ``got`` is what ``expected`` shows (``...``: any text).

    Examples
    --------
    >>> matches("wrote 3 files in ... s", "wrote 3 files in 1.2 s  \\n")
    True
    >>> matches("0.25", "0.26")
    False
    """
    return _pattern(expected).fullmatch(_clean(got)) is not None


def _console(block: Block, cwd: Path, env: dict[str, str], where: str) -> None:
    commands: list[tuple[str, list[str]]] = []
    for line in block.body.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands and commands[-1][0].endswith("\\"):
            commands[-1] = (commands[-1][0][:-1] + line.strip(), commands[-1][1])
        elif commands:
            commands[-1][1].append(line)
    assert commands, f"{where}: a console block without a `$ ` command"
    for command, expected in commands:
        proc = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=300)
        got = proc.stdout + proc.stderr
        assert proc.returncode == 0, f"{where}: `{command}` failed:\n{got}"
        want = "\n".join(expected)
        if want.strip():
            assert matches(want, got), (f"{where}: `{command}` printed\n{got}\n"
                                        f"and the page shows\n{want}")


def run_page(page: Path, cwd: Path) -> None:
    """Execute every testable block of ``page`` in ``cwd`` (the caller's working directory
    must be ``cwd``)."""
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    namespace: dict[str, object] = {"__name__": f"tutorial_{page.stem.replace('-', '_')}"}
    written: set[str] = set()
    printed: str | None = None
    for block in blocks(page.read_text(encoding="utf-8")):
        where = f"{page.relative_to(ROOT)}:{block.line}"
        if block.skip:
            printed = None
            continue
        if block.lang == "text" and block.title == "Output":
            assert printed is not None, f"{where}: an Output block after no Python block"
            assert matches(block.body, printed), (f"{where}: the Python block printed\n"
                                                  f"{printed}\nand the page shows\n"
                                                  f"{block.body}")
            printed = None
            continue
        printed = None
        if block.title is not None:
            path = cwd / block.title
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a" if block.title in written else "w", encoding="utf-8") as f:
                f.write(block.body)
            written.add(block.title)
        elif block.lang == "python":
            out = io.StringIO()
            code = compile(block.body, where, "exec")
            with contextlib.redirect_stdout(out):
                exec(code, namespace)
            printed = out.getvalue()
        elif block.lang == "console":
            _console(block, cwd, env, where)


@pytest.fixture
def clean_registries():
    """Models and pressures a tutorial registers are gone after it."""
    from steppe.models import base as models_base
    from steppe.pressures import base as pressures_base

    models_base.available_models()  # everything built in is registered before the snapshot
    pressures_base.available_pressures()
    saved = dict(models_base._REGISTRY), dict(pressures_base._REGISTRY)
    yield
    for registry, before in zip((models_base._REGISTRY, pressures_base._REGISTRY), saved,
                                strict=True):
        registry.clear()
        registry.update(before)


def test_there_are_tutorials():
    assert len(TUTORIALS) >= 5, [p.name for p in TUTORIALS]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("page", EXECUTED, ids=lambda p: p.stem)
def test_tutorial_runs(page, tmp_path, monkeypatch, clean_registries):
    if "steppe calibrate" in page.read_text(encoding="utf-8") and \
            importlib.util.find_spec("pyabc") is None:
        pytest.skip("pyabc is not installed (pip install 'steppe[calibrate]')")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    run_page(page, tmp_path)


def test_every_tutorial_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in TUTORIALS:
        assert f"tutorials/{page.name}" in nav, page.name


def _config_for(tmp_path: Path) -> Path:
    """mkdocs.yml with absolute paths, leaving out nav pages other people have not written
    yet (report.md, explore.md): a missing page would fail --strict for a reason that is
    not this site's."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    kept = []
    for line in text.splitlines():
        m = re.match(r"^\s+- [^:]+: ([\w./-]+\.md)\s*$", line)
        if m and not (DOCS / m[1]).exists() and m[1] in ("report.md", "explore.md"):
            continue
        kept.append(line)
    text = "\n".join(kept) + "\n"
    text = text.replace("docs_dir: docs", f"docs_dir: {DOCS}")
    text = text.replace("paths: [src]", f"paths: [{ROOT / 'src'}]")
    text = text.replace("- docs/hooks/", f"- {DOCS / 'hooks'}/")
    path = tmp_path / "mkdocs.yml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.timeout(300)
def test_site_builds_strictly(tmp_path):
    if importlib.util.find_spec("mkdocs") is None or \
            importlib.util.find_spec("mkdocstrings") is None or \
            importlib.util.find_spec("material") is None:
        pytest.skip("mkdocs, mkdocs-material or mkdocstrings is not installed "
                    "(pip install 'steppe[docs]')")
    config = _config_for(tmp_path)
    site = tmp_path / "site"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                           "-f", str(config), "-d", str(site)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=280,
                          env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}{proc.stderr}"
    assert (site / "index.html").exists()
    assert (site / "reference" / "models.html").exists()
    # offline: nothing is loaded from another server (fonts, scripts, styles)
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        for tag in re.findall(r"<(?:script|link)\b[^>]*>", html):
            assert not re.search(r"(?:src|href)=\"?(?:https?:)?//", tag) or \
                'rel="canonical"' in tag or "rel=canonical" in tag, (page.name, tag)
    assert seconds < 120, f"the site took {seconds:.0f} s to build"


def test_sphinx_roles_become_inline_code():
    """The site's griffe extension (docs/hooks/sphinx_roles.py) turns the docstrings' Sphinx
    roles into inline code instead of printing them as they are."""
    spec = importlib.util.spec_from_file_location("sphinx_roles",
                                                  DOCS / "hooks" / "sphinx_roles.py")
    if spec is None or spec.loader is None or importlib.util.find_spec("griffe") is None:
        pytest.skip("griffe is not installed (pip install 'steppe[docs]')")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.plain(":class:`~steppe.models.base.Model` and :meth:`Result.save`") == \
        "`Model` and `Result.save`"


def test_console_commands_name_steppe_commands():
    """Each `$ steppe X` in the tutorials names a real command (a typo would otherwise
    only show up when the page runs)."""
    from steppe.cli import app  # noqa: F401  (the CLI imports)

    known = {"run", "report", "models", "validate", "sweep", "query", "sensitivity", "design",
             "calibrate", "explore"}
    for page in TUTORIALS:
        for block in blocks(page.read_text(encoding="utf-8")):
            if block.lang != "console":
                continue
            for line in block.body.splitlines():
                if line.startswith("$ steppe "):
                    word = shlex.split(line[2:])[1]
                    assert word in known or word.startswith("-"), (page.name, line)
