"""Wall time and peak memory of the commands the documentation quotes, run as a reader runs
them.

Usage::

    python benchmarks/bench_commands.py                      # every section
    python benchmarks/bench_commands.py --only run,report    # some of them

Sections, each command in a fresh temporary folder holding a copy of ``scenarios/`` (as a
reader who cloned the repository has it):

- ``run``: ``steppe run scenarios/kazakhstan-2022.toml`` (the README's quick start: 1:100,
  20 runs, one worker);
- ``report``: ``steppe report`` on that results folder (PNG, SVG and PDF figures,
  ``report.html``, ``summary.md``), and the size of ``report.html`` (docs/report.md);
- ``sensitivity``: the README's ``steppe sensitivity scenarios/kazakhstan-2022.toml
  --scale 0.002 --runs 4 --workers 0``;
- ``gsa``: docs/sensitivity.md's Morris (``--trajectories 4``) and Sobol (``--samples 8``)
  analyses at 1:2000 with two workers (after the page's ``steppe run`` into the same
  folder), then each again into the same folder (every run
  found done: only the table is recomputed);
- ``pages``: every tutorial's examples (docs/tutorials/), through the test suite's
  documentation harness (``tests/test_docs.py``, needs the test extras): the seconds per
  page, as docs/tutorials/index.md's "takes" column quotes them.

Prints the date, the machine (CPU model, cores, memory, load average before the first
command), then per command its wall time and the peak resident memory of its largest
process (``ru_maxrss`` of a wrapper's children: with worker processes, the largest of
them). The figures quoted in README.md, docs/report.md, docs/sensitivity.md and
docs/tutorials/index.md come from this script; run it again when they change, and update
them with the date and machine it prints. The figures depend on what else runs on the
machine: quote the load average with them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _machine import machine

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = "scenarios/kazakhstan-2022.toml"
SECTIONS = ("run", "report", "sensitivity", "gsa", "pages")

#: runs ``argv[1:]`` and prints its exit status, wall seconds and the peak resident memory
#: of its largest process (Linux reports kilobytes, macOS bytes)
_WRAPPER = """
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
rc = subprocess.run(sys.argv[1:]).returncode
wall = time.perf_counter() - t0
kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": rc, "wall": wall,
                  "peak": kb if sys.platform == "darwin" else kb * 1024}), file=sys.stderr)
"""


def _steppe() -> str:
    here = Path(sys.executable).with_name("steppe")
    return str(here) if here.exists() else "steppe"


def timed(command: list[str], cwd: Path, label: str) -> dict[str, float]:
    """Run ``command`` in ``cwd``; print and return its wall seconds and peak memory."""
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, *command], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    *_, last = proc.stderr.strip().splitlines() or ["{}"]
    got = json.loads(last)
    if got.get("rc") != 0:
        sys.exit(f"`{' '.join(command)}` failed:\n{proc.stdout}{proc.stderr}")
    print(f"{label}: {got['wall']:.1f} s, peak {got['peak'] / 2**30:.2f} GiB"
          f"    ({' '.join(command).replace(_steppe(), 'steppe')})", flush=True)
    tail = [line for line in proc.stdout.splitlines() if re.search(r"\d run\(s\)|wrote", line)]
    for line in tail[-2:]:
        print(f"    | {line.strip()}")
    return got


def folder(tmp: Path, name: str) -> Path:
    """A fresh folder with a copy of the repository's scenarios/."""
    where = tmp / name
    where.mkdir()
    shutil.copytree(ROOT / "scenarios", where / "scenarios")
    return where


def run_and_report(tmp: Path, sections: set[str]) -> None:
    where = folder(tmp, "run")
    timed([_steppe(), "run", FLAGSHIP], where, "steppe run (1:100, 20 runs)")
    if "report" in sections:
        timed([_steppe(), "report", "results/kazakhstan-2022"], where, "steppe report")
        report = where / "results" / "kazakhstan-2022" / "report"
        size = sum(p.stat().st_size for p in report.rglob("*") if p.is_file())
        html = (report / "report.html").stat().st_size
        print(f"    report.html {html / 1e6:.1f} MB; the report folder {size / 1e6:.1f} MB "
              f"in {sum(1 for p in report.rglob('*') if p.is_file())} files")


def sensitivity(tmp: Path) -> None:
    where = folder(tmp, "sensitivity")
    timed([_steppe(), "sensitivity", FLAGSHIP, "--scale", "0.002", "--runs", "4",
           "--workers", "0"], where, "steppe sensitivity (README, 1:500, 4 runs a setting)")


def gsa(tmp: Path) -> None:
    where = folder(tmp, "gsa")
    morris = [_steppe(), "sensitivity", FLAGSHIP, "--method", "morris", "--trajectories",
              "4", "--scale", "0.0005", "--workers", "2", "--out", "results/kz-gsa"]
    sobol = [_steppe(), "sensitivity", FLAGSHIP, "--method", "sobol", "--samples", "8",
             "--scale", "0.0005", "--workers", "2", "--out", "results/kz-gsa"]
    timed([_steppe(), "run", FLAGSHIP, "--scale", "0.0005", "--out", "results/kz-gsa", "-q"],
          where, "steppe run at 1:2000 (20 runs, before the analyses)")
    timed(morris, where, "Morris, 4 trajectories (docs/sensitivity.md)")
    timed(sobol, where, "Sobol, 8 base samples (docs/sensitivity.md)")
    timed(morris, where, "Morris again (every run done)")
    timed(sobol, where, "Sobol again (every run done)")


_DURATION = re.compile(r"^([\d.]+)s call\s+tests/test_docs\.py::TestPage_docs_tutorials_(\w+)::")


def pages() -> None:
    """Each tutorial page's examples, timed by pytest (one process, in page order)."""
    command = [sys.executable, "-m", "pytest", str(ROOT / "tests" / "test_docs.py"), "-n",
               "0", "-q", "-p", "no:cacheprovider", "--durations=0", "-k",
               "TestPage_docs_tutorials"]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False,
                          env=dict(os.environ, MPLBACKEND="Agg"))
    if proc.returncode != 0:
        sys.exit(f"the tutorials' examples failed:\n{proc.stdout[-4000:]}")
    print("tutorials (examples of each page, through tests/test_docs.py, one process):")
    for line in proc.stdout.splitlines():
        m = _DURATION.match(line)
        if m:
            print(f"    {m[2].replace('_', '-')}.md: {float(m[1]):.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default=",".join(SECTIONS),
                    help=f"sections to run, comma-separated, of: {', '.join(SECTIONS)}")
    args = ap.parse_args()
    sections = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = sections - set(SECTIONS)
    if unknown:
        ap.error(f"unknown section(s) {', '.join(sorted(unknown))}; "
                 f"choose from {', '.join(SECTIONS)}")
    import steppe

    print(f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    print(f"python {platform.python_version()}, steppe {getattr(steppe, '__version__', '?')}")
    with tempfile.TemporaryDirectory(prefix="bench-commands-") as name:
        tmp = Path(name)
        if sections & {"run", "report"}:
            run_and_report(tmp, sections)
        if "sensitivity" in sections:
            sensitivity(tmp)
        if "gsa" in sections:
            gsa(tmp)
    if "pages" in sections:
        pages()
    print(f"done; load average now {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
