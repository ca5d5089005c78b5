"""Sznajd model: absorbing states of the original 1D rule, exit probabilities.

- Original 1D rule (Sznajd-Weron & Sznajd 2000): from a random start the ring ends all A,
  all B, or in the alternating "stalemate"; the paper (and Stauffer 2002's review) reports
  the stalemate in about half of the runs. Derivation: the rule is s_{i−1} ← s_{i+1},
  s_{i+2} ← s_i for every pair, i.e. a voter-type copying inside each sublattice of equal
  parity, so each sublattice's share of A is a martingale and each sublattice ends with A
  with probability equal to its initial share x (resp. 1 − x). From exactly L/2 A agents
  in random positions, P(stalemate) = E[x² + (1−x)²] = L / (2(L − 1)) (hypergeometric
  variance of x; verified by exact enumeration of the 2^L-state chain for L = 8, 10, 12,
  :func:`ring_absorption_exact`), → ½ for large L.
- Agree-only rule on a ring: the exit probability is *not* the voter model's E(ρ) = ρ: the
  1D Sznajd model has E(ρ) = ρ²/(ρ² + (1−ρ)²) for large L (Slanina, Sznajd-Weron & Przybyła
  2008; Lambiotte & Redner 2008; exact per Castellano & Pastor-Satorras 2011). The check
  compares with the exact finite-L absorption probabilities of the Markov chain instead
  (L = 12, enumeration), which need no asymptotics, and reports the large-L formula.
- Mean field (complete graph, a pair convinces one random third agent; Slanina & Lavička
  2003): K (number of A) is a birth–death chain with w₊ ∝ C(K,2)(N−K), w₋ ∝ K·C(N−K,2) —
  the r = 3 majority-rule rates divided by 3 — so the exit probability is exactly the
  majority rule's, which tends to a step at ρ = ½.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spl
from scipy.stats import binom

from ..engine.state import init_state
from ..models import get_model
from ..networks import Network, complete_graph
from .base import CheckResult, check, replicate
from .majority_rule import birth_death_exit, majority3_rates

__all__ = ["ring", "ring_absorption_exact", "run_to_absorption"]


def ring(n: int) -> Network:
    """A ring of n agents (neighbours i ± 1 mod n) with ``shape = (n,)``.

    Examples
    --------
    >>> ring(5).neighbors(0).tolist()
    [4, 1]
    """
    i = np.arange(n)
    nb = np.stack([(i - 1) % n, (i + 1) % n], axis=1).ravel()
    return Network.from_csr(np.arange(0, 2 * n + 1, 2), nb, name="ring", shape=(n,),
                            params={"n": n})


def ring_absorption_exact(n: int, variant: str) -> dict[str, np.ndarray]:
    """Exact absorption probabilities of the 1D Sznajd chain from every configuration.

    States are the 2^n bit patterns (bit i set: agent i holds B). Returns arrays indexed by
    state for ``"A"``, ``"B"`` and ``"stalemate"`` (the two alternating states; even n),
    and ``"n_b"``, the number of B agents in each state. Feasible up to n ≈ 12.

    Examples
    --------
    >>> out = ring_absorption_exact(8, "original")
    >>> sel = out["n_b"] == 4
    >>> round(float(out["stalemate"][sel].mean()), 4)  # L/(2(L-1)) = 4/7
    0.5714
    """
    size = 2**n
    s = np.arange(size, dtype=np.int64)
    bits = (s[:, None] >> np.arange(n)) & 1
    cols = []
    for i in range(n):
        ip1, ip2, im1 = (i + 1) % n, (i + 2) % n, (i - 1) % n
        left, right = bits[:, ip1], bits[:, i]
        new = (s & ~(1 << im1)) | (left << im1)
        new = (new & ~(1 << ip2)) | (right << ip2)
        if variant == "agree_only":
            new = np.where(left == right, new, s)
        cols.append(new)
    p = sp.csr_matrix((np.full(n * size, 1.0 / n), (np.tile(s, n), np.concatenate(cols))),
                      shape=(size, size))
    all_a, all_b = 0, size - 1
    alt = [int("01" * (n // 2), 2), int("10" * (n // 2), 2)] if n % 2 == 0 else []
    absorbing = np.zeros(size, dtype=bool)
    absorbing[[all_a, all_b, *alt]] = True
    tr = ~absorbing
    q = p[tr][:, tr]
    lu = spl.splu((sp.identity(q.shape[0], format="csc") - q).tocsc())
    out: dict[str, np.ndarray] = {"n_b": bits.sum(axis=1)}
    for name, targets in (("A", [all_a]), ("B", [all_b]), ("stalemate", alt)):
        h = np.zeros(size)
        if targets:
            h[targets] = 1.0
            h[tr] = lu.solve(np.asarray(p[tr][:, targets].sum(axis=1)).ravel())
        out[name] = h
    return out


def run_to_absorption(model, network: Network, state, chunk: int = 10,
                      max_sweeps: int = 10**6) -> str:
    """Advance until consensus or the alternating stalemate; return "A", "B" or "stalemate".

    Examples
    --------
    >>> m = get_model("sznajd")(variant="original")
    >>> g = ring(10)
    >>> run_to_absorption(m, g, init_state(m, g, seed=1)) in ("A", "B", "stalemate")
    True
    """
    t = 0
    while t < max_sweeps:
        if state.counts[0] == state.n:
            return "A"
        if state.counts[1] == state.n:
            return "B"
        if np.all(state.stance != np.roll(state.stance, 1)):
            return "stalemate"
        model.advance(state, network, chunk, stop_at_consensus=True)
        t += chunk
    return "none"


def _outcomes(variant: str, n: int, rho: float, runs: int, seed: int,
              chunk: int) -> dict[str, float]:
    model = get_model("sznajd")(variant=variant)
    g = ring(n)
    res = [run_to_absorption(model, g, init_state(model, g, shares={"A": rho, "B": 1 - rho},
                                                  seed=c), chunk=chunk)
           for c in np.random.SeedSequence(seed).spawn(runs)]
    return {k: float(np.mean([r == k for r in res])) for k in ("A", "B", "stalemate", "none")}


@check("sznajd: original 1D rule, stalemate in about half the runs (ring L=100)",
       model="sznajd", reference="Sznajd-Weron & Sznajd 2000, Int. J. Mod. Phys. C 11, 1157",
       quick=True)
def sznajd_stalemate() -> CheckResult:
    # Expected L/(2(L−1)) = 0.5051 from exactly L/2 A agents (derivation in the module
    # docstring); binomial se sqrt(P(1−P)/runs); tolerance 4 se. A and B each
    # (1 − P)/2 by symmetry.
    n, runs = 100, 1500
    res = _outcomes("original", n, 0.5, runs, seed=20240801, chunk=n)
    exp = n / (2 * (n - 1))
    se = float(np.sqrt(exp * (1 - exp) / runs))
    ok = abs(res["stalemate"] - exp) < 4 * se and res["none"] == 0
    ok &= abs(res["A"] - res["B"]) < 4 * np.sqrt(2 * (1 - exp) / 2 / runs)
    return CheckResult(measured=res["stalemate"], se=se, passed=bool(ok),
                       expected=f"{exp:.4f} ± 4 se (paper: about ½)",
                       detail=f"A {res['A']:.3f}, B {res['B']:.3f}, {runs} runs, L={n}")


@check("sznajd: agree-only ring, exit probability vs exact chain (L=12, ρ=1/3)",
       model="sznajd", reference="Slanina, Sznajd-Weron & Przybyła 2008, EPL 82, 18006; "
       "Castellano & Pastor-Satorras 2011", quick=True)
def sznajd_ring_exit() -> CheckResult:
    # Exact absorption probability averaged over the uniformly random placements of 4 A
    # among 12 (what init_state does), binomial se, 4 se. The voter value ρ = 1/3 and the
    # large-L formula ρ²/(ρ²+(1−ρ)²) = 0.2 are both outside the band at this L.
    n, k_a, runs = 12, 4, 4000
    exact = ring_absorption_exact(n, "agree_only")
    e = float(exact["A"][exact["n_b"] == n - k_a].mean())
    res = _outcomes("agree_only", n, k_a / n, runs, seed=20240811, chunk=5)
    se = float(np.sqrt(e * (1 - e) / runs))
    return CheckResult(measured=res["A"], se=se, passed=abs(res["A"] - e) < 4 * se,
                       expected=f"{e:.4f} ± 4 se (exact, L=12)",
                       detail=f"{runs} runs; large-L formula ρ²/(ρ²+(1−ρ)²) = 0.2; voter ρ = "
                       "0.333")


@check("sznajd: mean-field exit probability is a step at ½ (complete graph)",
       model="sznajd", reference="Slanina & Lavička 2003, Eur. Phys. J. B 35, 279",
       quick=True)
def sznajd_mean_field_exit() -> CheckResult:
    # N = 100, ρ = 0.45: exact chain value (≈ 0.155, voter would be 0.45), 4 binomial se.
    # N = 1000 from 0.45 and 0.55: the minority wins with exact probability 7.6e-4, so at
    # most the 99.9% binomial quantile of minority wins is allowed.
    model = get_model("sznajd")(variant="mean_field")
    n, runs = 100, 1000
    trajs = replicate(model, complete_graph(n), runs=runs, seed=20240821,
                      shares={"A": 0.45, "B": 0.55})
    e = float(birth_death_exit(*majority3_rates(n))[45])
    measured = float(np.mean([t.consensus_stance == 0 for t in trajs]))
    se = float(np.sqrt(e * (1 - e) / runs))
    ok = abs(measured - e) < 4 * se
    n2, runs2 = 1000, 100
    e2 = float(birth_death_exit(*majority3_rates(n2))[450])
    bound = int(binom.ppf(0.999, runs2, e2))
    lo = replicate(model, complete_graph(n2), runs=runs2, seed=20240822,
                   shares={"A": 0.45, "B": 0.55})
    hi = replicate(model, complete_graph(n2), runs=runs2, seed=20240823,
                   shares={"A": 0.55, "B": 0.45})
    a_lo = sum(t.consensus_stance == 0 for t in lo)
    b_hi = sum(t.consensus_stance == 1 for t in hi)
    ok &= a_lo <= bound and b_hi <= bound
    return CheckResult(measured=measured, se=se, passed=bool(ok),
                       expected=f"N=100: {e:.4f} ± 4 se; N=1000: minority wins <= {bound} "
                       f"of {runs2}",
                       detail=f"N=1000: A won {a_lo} from 0.45, B won {b_hi} from 0.55")
