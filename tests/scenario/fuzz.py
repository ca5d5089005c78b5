"""Generated scenario inputs: mutations of the files in ``scenarios/`` (the Kazakhstan
family and its variants included), at a size that builds, as data and as TOML text.

Every generated input must end in exactly one of two ways: a clean error (a
:class:`~steppe.errors.SteppeError` with one message, and nothing written to the output
folder) or a valid run (its results written). Anything else — another exception (a
traceback for the user), a run that outlives its time budget (a hang), files left behind by
a failure — is a finding. :func:`attempt` classifies one input; ``test_generated_inputs.py``
runs a few hundred in the normal test run and several thousand under the ``slow`` mark, and
``python -m tests.scenario.fuzz --examples N`` runs a campaign and prints the counts.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime as dt
import math
import random
import re
import shutil
import signal
import tempfile
import traceback
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"

#: overrides that make each scenario small enough to build and run in well under a second
SMALL: dict[str, dict[str, Any]] = {
    "binary-agreement-tipping": {"network.n": 100, "stop.max_sweeps": 20},
    "centola-tipping": {"network.n": 100, "stop.max_sweeps": 20},
    "committed-minority": {"network.n": 200, "stop.max_sweeps": 10},
    "crackdown-lifted": {"network.n": 200, "stop.max_sweeps": 40},
    "deffuant-clusters": {"network.n": 100, "stop.max_sweeps": 10},
    "epo-expressed-private": {"network.n": 100, "stop.max_sweeps": 10},
    "friedkin-johnsen": {"network.n": 100, "stop.max_sweeps": 10},
    "granovetter-riot": {},
    "hegselmann-krause": {"network.n": 100, "stop.max_sweeps": 10},
    "kazakhstan-2022": {"population.scale": 0.0001},
    "kazakhstan-2022-border-wave": {"population.scale": 0.0001},
    "kazakhstan-2022-crackdown-lifted": {"population.scale": 0.0001},
    "kazakhstan-2022-method-reading": {"population.scale": 0.0001},
    "kazakhstan-2022-stress-propaganda": {"population.scale": 0.0001},
    "majority-rule-galam": {"network.n": 100, "stop.max_sweeps": 10},
    "majority-vote-lattice": {"network.shape": [8, 8], "stop.max_sweeps": 10},
    "qvoter-anticonformity": {"network.n": 100, "stop.max_sweeps": 10},
    "voter-lattice": {"network.shape": [8, 8], "stop.max_sweeps": 10},
}

#: values a mutation may put anywhere (types and sizes a user can type by mistake)
VALUES: list[Any] = [
    0, 1, -1, 2, 3, 10, 100, 10**6, 10**12, -10**9, 2**31, 2**63 - 1,
    0.0, 0.5, -0.5, 1.5, 1e-12, 1e9, 1e308, -1e308, math.inf, -math.inf, math.nan,
    True, False, "", "0.5", "A", "B", "russia", "neutral", "ukraine", "x" * 300,
    "node", "exact", "random", "homophily", "complete", "\0", "../../etc/passwd",
    [], [1], [0.5, 0.5], ["A"], [[1, 2], [3, 4]], [[[[[1]]]]],
    {}, {"A": 1.0}, {"A": 0.5, "B": 0.5}, {"dist": "uniform", "low": 0, "high": 1},
    {"dist": "beta", "a": 2, "b": math.inf}, {"dist": "normal", "mean": math.inf, "sd": 1},
    {"dist": "uniform", "low": 5, "high": 9}, {"x": {"y": {"z": 1}}},
    dt.date(2022, 3, 1), dt.date(1999, 1, 1), dt.date(2099, 1, 1), "2022-04-01",
]

#: TOML literals a text mutation may put in place of a value
LITERALS = ["0", "1", "-1", "1e308", "-1e308", "inf", "-inf", "nan", "true", "false",
            '"0.5"', '""', "[]", "{}", '"x"', "2022-03-01", "1999-01-01", "2099-01-01",
            "[[[[1]]]]", '{ dist = "uniform", low = 0, high = "x" }', "0.5", "10_000_000_000",
            '"/dev/zero"', '"no/such/file.csv"', "[1, 2, 3]", "3.7", "100"]

#: a run longer than this (seconds) is a hang; scenarios that validate but would take
#: longer than the budget (agents x sweeps) are checked up to their dry assembly
TIME_LIMIT = 30
WORK_BUDGET = 5e7


def base_data(name: str) -> dict[str, Any]:
    """A scenario's data (variant resolved) at its small size, one run."""
    read_scenario_file, set_path = _scenario_files()
    data, _, _ = read_scenario_file(SCENARIOS / f"{name}.toml")
    data = copy.deepcopy(data)
    data.pop("sweep", None)
    data["runs"] = 1
    for path, value in SMALL[name].items():
        data = set_path(data, path, value)
    return data


def _scenario_files() -> tuple[Any, Any]:
    """``read_scenario_file`` and ``set_path`` (where they live in this version)."""
    try:
        from steppe.scenario import read_scenario_file, set_path
    except ImportError:  # the layout before issue 9, for campaigns against it
        from steppe.scenario.loader import read_scenario_file, set_path
    return read_scenario_file, set_path


def leaves(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value (tables and arrays included) in nested data."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += leaves(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += leaves(v, (*prefix, i))
    return out


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        node = node[p]
    return node


def mutate(data: dict[str, Any], rng: random.Random, k: int = 1) -> dict[str, Any]:
    """``k`` random mutations: replace a value, delete an entry, add an unknown field,
    nest a value deeply, or turn a table into something else."""
    data = copy.deepcopy(data)
    for _ in range(k):
        paths = leaves(data)
        if not paths:
            return data
        path = rng.choice(paths)
        parent = _get(data, path[:-1])
        key = path[-1]
        op = rng.random()
        if op < 0.6:
            parent[key] = copy.deepcopy(rng.choice(VALUES))
        elif op < 0.75 and isinstance(parent, dict):
            del parent[key]
        elif op < 0.85:
            target = parent if isinstance(parent, dict) else data
            target[rng.choice(["extra", "nmae", "seeds", "kind", "mean_degre"])] = 1
        elif op < 0.9:
            nested: Any = 1
            for _ in range(rng.choice([5, 40, 200])):
                nested = [nested]
            parent[key] = nested
        else:
            parent[key] = rng.choice([[], {}, "", None, 0])
    return data


def mutate_text(text: str, rng: random.Random) -> str:
    """Replace the value of one ``key = value`` line of a TOML text by another literal."""
    lines = text.splitlines()
    idx = [i for i, line in enumerate(lines) if re.match(r"^\s*[\w\".-]+\s*=\s*\S", line)]
    if not idx:
        return text
    i = rng.choice(idx)
    key = lines[i].split("=", 1)[0]
    lines[i] = f"{key}= {rng.choice(LITERALS)}"
    return "\n".join(lines) + "\n"


class Hang(Exception):
    """A run that outlived its time budget."""


@contextlib.contextmanager
def watchdog(seconds: int) -> Iterator[None]:
    def _alarm(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _work(loaded: Any) -> float:
    """Agents x sweeps of one run, about (for the time budget)."""
    from steppe.experiments.memory import _network_size

    n, _ = _network_size(loaded)
    sweeps = loaded.max_sweeps() or 1e9
    return float(n) * float(sweeps) * loaded.spec.runs


def attempt(src: dict[str, Any] | Path, out: Path) -> tuple[str, str]:
    """Run one input as ``steppe run`` does (check, memory, run, write into ``out``);
    returns ``(outcome, detail)`` with outcome ``"accepted"``, ``"checked"`` (valid, too
    long to run within the budget), ``"error"`` (a clean message, nothing written),
    ``"partial"`` (an error that left files), ``"traceback"`` or ``"hang"``."""
    import steppe
    from steppe.errors import SteppeError

    try:
        from steppe.experiments.ensemble import RunFailed
    except ImportError:  # before issue 10 there was no such error
        RunFailed = type("RunFailed", (Exception,), {})

    try:
        with watchdog(TIME_LIMIT):
            loaded = steppe.load_scenario(src)
            if _work(loaded) > WORK_BUDGET:
                from steppe.experiments.memory import check_memory

                check_memory(loaded)
                return "checked", loaded.spec.name
            steppe.run(loaded, out=out, workers=1, keep_final_states=False)
        if not (out / "summary.parquet").is_file():
            return "partial", "accepted but summary.parquet missing"
        return "accepted", ""
    except RunFailed as exc:  # an error inside steppe: a finding
        return "traceback", f"{exc}\n{exc.traceback}"
    except SteppeError as exc:
        message = str(exc)
        if not message or "Traceback" in message:
            return "traceback", f"unclear message: {message!r}"
        if out.exists() and any(out.iterdir()):
            return "partial", f"{message} (left {sorted(p.name for p in out.iterdir())})"
        return "error", message.splitlines()[0][:160]
    except Hang as exc:
        return "hang", str(exc)
    except Exception:
        return "traceback", traceback.format_exc(limit=8)


def scenario_files(tmp: Path) -> Path:
    """A copy of ``scenarios/`` (files and data) to mutate in place."""
    dest = tmp / "scenarios"
    shutil.copytree(SCENARIOS, dest)
    return dest


def campaign(examples: int, seed: int = 0) -> Counter:
    """Half data mutations, half TOML text mutations of the small scenarios."""
    rng = random.Random(seed)
    counts: Counter = Counter()
    findings: list[str] = []
    names = sorted(SMALL)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        files = scenario_files(tmp)
        for i in range(examples):
            out = tmp / f"out{i}"
            name = rng.choice(names)
            if i % 2 == 0:
                src: Any = mutate(base_data(name), rng, k=rng.choice([1, 1, 2, 3]))
            else:
                read_scenario_file, set_path = _scenario_files()
                text = (files / f"{name}.toml").read_text(encoding="utf-8")
                path = files / f"fuzz-{i}.toml"
                path.write_text(mutate_text(text, rng), encoding="utf-8")
                src = path
                try:
                    data, _, _ = read_scenario_file(path)
                    data["runs"] = 1
                    data.pop("sweep", None)
                    for k, v in SMALL[name].items():
                        data = set_path(data, k, v)
                    src = data
                except Exception:  # the file itself is the input: read errors count
                    src = path
            outcome, detail = attempt(src, out)
            counts[outcome] += 1
            if outcome in ("traceback", "hang", "partial"):
                findings.append(f"{outcome}: {name}: {detail}")
            shutil.rmtree(out, ignore_errors=True)
    counts["files"] = examples
    for f in findings[:20]:
        print(f)
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description="generated-input campaign")
    ap.add_argument("--examples", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    counts = campaign(args.examples, args.seed)
    print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
