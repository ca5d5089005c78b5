"""The documentation site: `mkdocs build --strict` passes, and every example in it runs.

Every fenced example of ``README.md`` and of each page under ``docs/`` is executed as
written, page by page (one test each), each page in its own temporary folder that holds a
copy of the repository's ``scenarios/`` (and ``benchmarks/``), as a reader who cloned the
repository has them:

- a fenced block with a ``title="NAME"`` (```` ```toml title="arcadia.toml" ````) is a file
  the reader saves: it is written to ``NAME`` (a second block with the same title is
  appended to it, as the page then says);
- ```` ```python ```` blocks run in order in one namespace per page; a ```` ```text
  title="Output" ```` block right after one is what it prints;
- ```` ```console ```` blocks: each ``$ command`` runs in a shell (``steppe`` is this
  environment's), must succeed, and prints what the lines under it show; one whose output
  on the page starts with ``error:`` must fail instead (exit status other than 0);
- ```` ```bash ```` blocks are commands a reader types: the block runs as one ``bash -e``
  script and must succeed (nothing is compared: such blocks show no output). Its ``pip
  install ...`` lines are left out: the tests' environment has every extra, and nothing is
  downloaded;
- a TOML block without a title is a fragment of a scenario: it must parse as TOML, and is
  not run (unless a ``file`` directive below names it); untitled ``text`` blocks and other
  languages are shown only.

Directives: HTML comments (invisible on the site and on GitHub) on the lines right before
a block change how it is tested; several may stand one per line.

- ``<!-- docs-test: skip REASON -->`` leaves the block out (an install, a cluster, R);
- ``<!-- docs-test: file NAME -->`` writes an untitled block to the file ``NAME``;
- ``<!-- docs-test: replace "OLD" "NEW" -->`` (quoted as in a shell) is the small-scale
  switch for a heavy example: before the block runs, ``OLD`` (which must occur in it) is
  replaced by ``NEW`` everywhere in the block
  (``--scale 0.0002`` instead of 0.01, 2 values of N instead of 5, 2 runs instead of 40). The
  output of a block run this way is not compared, nor an Output block after it: it is that
  of the full scale; the commands must still succeed;
- ``<!-- docs-test: setup COMMAND -->`` runs ``COMMAND`` first (its output is not
  compared): what the page assumes the reader already did (a results folder to look at);
- ``<!-- docs-test: timeout SECONDS -->``: a ``console`` command that is still running
  after ``SECONDS`` (a server such as ``steppe explore``) is stopped, and passes if what it
  printed by then matches.

Reports are written without their SVG and PDF copies (``STEPPE_REPORT_VECTORS=none``, and
in Python blocks ``tests/conftest.py``'s PNG-only fixture), as everywhere in the suite but in
the tests of those copies (``tests/report/test_report_figures.py``): they would double the
time of every page that writes a report.

Pages whose examples take more than about 20 s even at the small scale (``SLOW`` below)
carry the ``slow`` marker: ``-m 'not slow'`` leaves them out of a quick run.

Expected output matches line by line after trailing spaces and blank lines are dropped;
``...`` stands for any text (timings, paths), as in doctest's ELLIPSIS, and a line that is
only ``...`` for any number of lines.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TUTORIALS = sorted(p for p in (DOCS / "tutorials").glob("*.md") if p.name != "index.md")
#: every page whose examples run: the README and every page of the site
EXECUTED = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
#: what a page's temporary folder holds, copied from the repository
COPIED = ("scenarios", "benchmarks")

_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_TITLE = re.compile(r'title="(?P<title>[^"]+)"')
_DIRECTIVE = re.compile(r"^<!-- docs-test: (?P<name>[\w-]+)\s*:?\s*(?P<arg>.*?)\s*-->$")
#: a line of a bash block that installs something: left out (the tests' environment has
#: every extra installed, and nothing is downloaded)
_PIP = re.compile(r"^\s*pip install ")
_KNOWN = {"skip", "file", "replace", "setup", "timeout"}


@dataclass
class Block:
    lang: str
    title: str | None
    body: str
    line: int
    skip: bool
    directives: list[tuple[str, str]] = field(default_factory=list)

    def args(self, name: str) -> list[str]:
        return [arg for n, arg in self.directives if n == name]


def blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown page (top level only, as the pages write them), each
    with the ``docs-test`` directives on the lines right before it.

    Examples
    --------
    >>> page = ("x\\n<!-- docs-test: skip an R snippet -->\\n```r\\n1\\n```\\n"
    ...         "```text title=\\"Output\\"\\nok\\n```\\n")
    >>> [(b.lang, b.title, b.body, b.skip) for b in blocks(page)]
    [('r', None, '1\\n', True), ('text', 'Output', 'ok\\n', False)]
    """
    out: list[Block] = []
    lines = text.splitlines()
    i = 0
    directives: list[tuple[str, str]] = []
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            d = _DIRECTIVE.match(lines[i].strip())
            if d:
                assert d["name"] in _KNOWN, f"line {i + 1}: unknown directive {d['name']!r}"
                directives.append((d["name"], d["arg"]))
            elif lines[i].strip():
                directives = []
            i += 1
            continue
        fence, info = m["fence"], m["info"].strip()
        start = i + 1
        j = start
        while j < len(lines) and lines[j].strip() != fence:
            j += 1
        lang = info.split()[0].strip("{}.") if info else ""
        t = _TITLE.search(info)
        out.append(Block(lang, t["title"] if t else None, "\n".join(lines[start:j]) + "\n",
                         start, any(n == "skip" for n, _ in directives), directives))
        directives = []
        i = j + 1
    return out


def scaled(block: Block, where: str) -> str:
    """The block's text with its ``replace`` directives applied.

    Examples
    --------
    >>> b = Block("bash", None, "steppe run x.toml\\n", 1, False,
    ...           [("replace", '"x.toml" "x.toml --scale 0.001"')])
    >>> scaled(b, "here")
    'steppe run x.toml --scale 0.001\\n'
    """
    body = block.body
    for arg in block.args("replace"):
        old_new = shlex.split(arg)
        assert len(old_new) == 2, f"{where}: replace takes \"OLD\" \"NEW\", not {arg!r}"
        old, new = old_new
        assert old in body, f"{where}: replace: {old!r} is not in the block"
        body = body.replace(old, new)
    return body


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
    """Trailing spaces and blank lines dropped (a progress bar leaves one behind)."""
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())


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


def _shell(command: str | list[str], cwd: Path, env: dict[str, str], where: str,
           timeout: float | None = None, fails: bool = False) -> str:
    """Run ``command``; what it printed (stdout and stderr). It must succeed (``fails``:
    fail), or, with a ``timeout``, still be running when stopped."""
    proc = subprocess.Popen(command, shell=isinstance(command, str), cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        got, _ = proc.communicate(timeout=timeout or 600)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            got, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            got, _ = proc.communicate()
        assert timeout, f"{where}: `{command}` ran for more than 600 s:\n{got}"
        return got
    if fails:
        assert proc.returncode != 0, f"{where}: `{command}` should have failed:\n{got}"
    else:
        assert proc.returncode == 0, f"{where}: `{command}` failed ({proc.returncode}):\n{got}"
    return got


def _complete(command: str) -> bool:
    """Whether a shell command is complete (no quotation left open).

    Examples
    --------
    >>> _complete('steppe query DIR "SELECT 1'), _complete('steppe query DIR "SELECT 1"')
    (False, True)
    """
    try:
        shlex.split(command, comments=True)
    except ValueError:
        return False
    return True


def _console(block: Block, body: str, cwd: Path, env: dict[str, str], where: str) -> None:
    commands: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands and commands[-1][0].endswith("\\"):
            commands[-1] = (commands[-1][0][:-1] + line.strip(), commands[-1][1])
        elif commands and not commands[-1][1] and not _complete(commands[-1][0]):
            commands[-1] = (commands[-1][0] + "\n" + line, [])  # inside a quoted string
        elif commands:
            commands[-1][1].append(line)
    assert commands, f"{where}: a console block without a `$ ` command"
    timeout = float(block.args("timeout")[-1]) if block.args("timeout") else None
    compare = not block.args("replace")
    for command, expected in commands:
        fails = bool(expected) and expected[0].startswith("error:")
        got = _shell(command, cwd, env, where, timeout, fails=fails)
        want = "\n".join(expected)
        if compare and want.strip():
            assert matches(want, got), (f"{where}: `{command}` printed\n{got}\n"
                                        f"and the page shows\n{want}")


def page_folder(tmp: Path) -> None:
    """What a reader of the README has in the repository's folder: a copy of scenarios/
    and benchmarks/ (a copy: nothing a page does can write into the repository)."""
    for name in COPIED:
        shutil.copytree(ROOT / name, tmp / name,
                        ignore=shutil.ignore_patterns("__pycache__", "results"))


def run_page(page: Path, cwd: Path) -> None:
    """Execute every testable block of ``page`` in ``cwd`` (the caller's working directory
    must be ``cwd``)."""
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb", MPLBACKEND="Agg",
               STEPPE_REPORT_VECTORS="none",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("FORCE_COLOR", None)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    written: set[str] = set()
    printed: str | None = None
    t0 = time.perf_counter()
    for block in blocks(page.read_text(encoding="utf-8")):
        where = f"{page.relative_to(ROOT)}:{block.line}"
        if block.lang not in ("", "text", "toml") or block.title or block.args("file"):
            print(f"{where}: {block.lang} block at {time.perf_counter() - t0:.1f} s")
        if block.skip:
            assert block.args("skip")[0] or page in TUTORIALS, \
                f"{where}: say why a block is skipped (<!-- docs-test: skip REASON -->)"
            printed = None
            continue
        body = scaled(block, where)
        for command in block.args("setup"):
            _shell(command, cwd, env, f"{where} (setup)")
        if block.lang == "text" and block.title == "Output":
            assert printed is not None, f"{where}: an Output block after no Python block"
            if printed is not _UNCOMPARED:
                assert matches(body, printed), (f"{where}: the Python block printed\n"
                                                f"{printed}\nand the page shows\n{body}")
            printed = None
            continue
        printed = None
        title = block.title or (block.args("file")[-1] if block.args("file") else None)
        if title is not None:
            path = cwd / title
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a" if title in written else "w", encoding="utf-8") as f:
                f.write(body)
            written.add(title)
        elif block.lang == "python":
            out = io.StringIO()
            code = compile(body, where, "exec")
            with contextlib.redirect_stdout(out):
                exec(code, namespace)
            printed = _UNCOMPARED if block.args("replace") else out.getvalue()
        elif block.lang == "console":
            _console(block, body, cwd, env, where)
        elif block.lang == "toml":
            try:  # a fragment: it is at least TOML
                tomllib.loads(body)
            except tomllib.TOMLDecodeError as e:
                raise AssertionError(f"{where}: not TOML: {e}") from None
        elif block.lang in ("bash", "sh", "shell"):
            script = "\n".join(line for line in body.splitlines()
                               if not _PIP.match(line))
            _shell(["bash", "-e", "-o", "pipefail", "-c", script], cwd, env, where)


#: what a Python block run at a small scale "printed": its Output block is not compared
_UNCOMPARED = "\0 not compared"


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


_NEEDS = {"steppe calibrate": ("pyabc", "calibrate"), "steppe explore": ("panel", "explore")}


class _Page:
    """The test of one page: a class each (below), so that pytest-xdist's ``--dist
    loadscope`` spreads the pages over the workers."""

    page: Path

    @pytest.mark.timeout(600)
    def test_examples_run(self, tmp_path, monkeypatch, clean_registries):
        text = self.page.read_text(encoding="utf-8")
        for command, (module, extra) in _NEEDS.items():
            if command in text and importlib.util.find_spec(module) is None:
                pytest.skip(f"{module} is not installed (pip install 'steppe[{extra}]')")
        page_folder(tmp_path)
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("COLUMNS", "200")
        monkeypatch.setenv("MPLBACKEND", "Agg")
        monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
        run_page(self.page, tmp_path)


def _class_name(page: Path) -> str:
    """``TestPage_docs_tutorials_new_model`` for docs/tutorials/new-model.md."""
    return "TestPage_" + re.sub(r"\W", "_", str(page.relative_to(ROOT).with_suffix("")))


#: pages whose examples take more than about 20 s even at the small scale (the flagship's
#: calibrations, sensitivity analyses and reports): marked slow, so that ``-m 'not slow'``
#: leaves them out of a quick run
SLOW = {"README.md", "docs/calibration.md", "docs/sensitivity.md", "docs/report.md",
        "docs/explore.md"}

for _page in EXECUTED:
    _cls = type(_class_name(_page), (_Page,), {"page": _page})
    if str(_page.relative_to(ROOT)) in SLOW:
        _cls = pytest.mark.slow(_cls)
    globals()[_class_name(_page)] = _cls


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
    """Each `steppe X` a page shows (console and bash blocks, skipped ones included) names a
    real command (a typo in a skipped block would otherwise never show up)."""
    from steppe.cli import app  # noqa: F401  (the CLI imports)

    known = {"run", "report", "models", "validate", "sweep", "query", "sensitivity", "design",
             "calibrate", "explore"}
    for page in EXECUTED:
        for block in blocks(page.read_text(encoding="utf-8")):
            if block.lang not in ("console", "bash"):
                continue
            for line in block.body.splitlines():
                line = line.removeprefix("$ ")
                if line.startswith("steppe ") and not line.startswith("steppe explore:"):
                    word = line.split()[1]
                    assert word in known or word.startswith("-"), (page.name, line)


def test_directives_are_documented():
    """Every directive the harness knows is explained where contributors read about the
    documentation tests (README.md) and in this module's docstring."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in _KNOWN:
        assert f"<!-- docs-test: {name}" in readme, name
        assert f"docs-test: {name}" in (__doc__ or ""), name
