"""The memory estimate against a measured peak, and the refusal it gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from steppe import load_scenario
from steppe.experiments import InsufficientMemoryError, check_memory, estimate_memory
from steppe.experiments.memory import PROCESS_BASE, available_memory

MEASURE = """
import json, re, sys
from steppe import load_scenario
from steppe.assembly import execute
spec = json.loads(sys.argv[1])
tiny = dict(spec, network={"kind": "complete", "n": 50})
execute(load_scenario(tiny), 0)   # imports, and kernels compiled or loaded: the base
def status(key):
    text = open("/proc/self/status").read()
    return int(re.search(key + r":\\s+(\\d+) kB", text).group(1)) * 1024
base = status("VmRSS")
with open("/proc/self/clear_refs", "w") as fh:   # the peak (VmHWM) starts again from here
    fh.write("5")
execute(load_scenario(spec), 0)
print(json.dumps({"base": base, "delta": status("VmHWM") - base}))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"),
                    reason="measures the peak with Linux's /proc/self/clear_refs")
@pytest.mark.parametrize("network", [
    {"kind": "erdos_renyi", "n": 1_000_000, "mean_degree": 10},
    {"kind": "complete", "n": 3_000_000},
])
def test_estimate_covers_the_measured_peak_without_wild_excess(network):
    spec = {"name": "mem", "seed": 1, "network": network, "model": {"name": "voter"},
            "stop": {"max_sweeps": 1}}
    p = subprocess.run([sys.executable, "-c", MEASURE, json.dumps(spec)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    measured = json.loads(p.stdout)
    est = estimate_memory(load_scenario(spec))
    assert measured["delta"] <= est.per_run <= 3 * measured["delta"] + 20 * 2**20
    assert measured["base"] <= 1.5 * PROCESS_BASE


def test_refusal_says_the_estimate_what_is_available_and_what_fits():
    spec = {"name": "big", "seed": 1, "network": {"kind": "erdos_renyi", "n": 100_000_000,
                                                 "mean_degree": 10},
            "model": {"name": "voter"}, "stop": {"max_sweeps": 1}}
    sc = load_scenario(spec)
    with pytest.raises(InsufficientMemoryError) as info:
        check_memory(sc, workers=4, available=8 * 2**30)
    msg = str(info.value)
    assert msg.startswith("this run needs about")
    assert "8.0 GiB is available" in msg and "per run (agents" in msg
    assert "a network of at most" in msg
    est = info.value.estimate
    assert est.max_agents(1) < 100_000_000
    # what it says would fit does fit
    fits = load_scenario(dict(spec, network=dict(spec["network"], n=est.max_agents(1))))
    assert check_memory(fits, workers=1, available=8 * 2**30).fits
    # a run that fits passes and reports its estimate
    small = load_scenario(dict(spec, network=dict(spec["network"], n=10_000)))
    ok = check_memory(small, workers=2, available=8 * 2**30)
    assert ok.fits and ok.total < 8 * 2**30 and ok.workers == 2
    # results kept by `steppe run` count too
    single = check_memory(small, workers=1, available=8 * 2**30)
    held = check_memory(small, workers=1, runs_held=1000, available=8 * 2**30)
    assert held.held >= 1000 * 10_000 and held.total == single.total + held.held


def test_population_refusal_gives_the_scale_that_would_fit():
    spec = {"name": "pop", "seed": 1, "population": {"total": 200_000_000, "scale": 1.0,
                                                    "groups": {"a": 0.5, "b": 0.5}},
            "network": {"kind": "homophily", "mean_degree": 10, "within_group": 0.8},
            "model": {"name": "voter"}, "stop": {"max_sweeps": 1}}
    with pytest.raises(InsufficientMemoryError, match=r"population\.scale <= 0\.\d+"):
        check_memory(load_scenario(spec), available=4 * 2**30)


def test_available_memory_is_known_here():
    m = available_memory()
    assert m is not None and m > 100 * 2**20
