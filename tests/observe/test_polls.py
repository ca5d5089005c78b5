"""Polls as an observation model: sampling, stratification, non-response, weights and the
list experiment, checked against sampling theory over many seeded polls.

Tolerances are stated in standard errors derived from theory (binomial or the variance of
the estimator), never tuned: a mean over R polls is checked within 4 SE of its expectation
(a false alarm about once in 16,000 per check), a coverage rate within 4 binomial SE of the
nominal level.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from steppe.errors import ParameterError
from steppe.observe.polls import (
    PollDesign,
    polls_to_frame,
    run_poll,
)
from steppe.rounding import largest_remainder

LABELS = ("against", "neutral", "pro")
Z4 = 4.0


def population(sizes: list[int], seed: int = 0) -> np.ndarray:
    """Stance codes with exactly ``sizes[k]`` agents of stance ``k``, shuffled."""
    x = np.repeat(np.arange(len(sizes), dtype=np.int8), sizes)
    np.random.default_rng(seed).shuffle(x)
    return x


def many_polls(design, reps, seed, **kw):
    gen = np.random.default_rng(seed)
    return [run_poll(design, seed=gen, stance_labels=LABELS, **kw) for _ in range(reps)]


# -- the direct question ------------------------------------------------------------------
def test_direct_estimate_unbiased_and_wilson_covers_at_nominal_rate():
    # N = 20,000 agents with expressed shares (0.5, 0.3, 0.2); the private stances differ
    # (all "pro" privately), so answering with the private stance would fail at once.
    big_n, n, reps = 20_000, 1000, 2000
    expressed = population([10_000, 6_000, 4_000])
    private = np.full(big_n, 2, dtype=np.int8)
    res = many_polls(PollDesign(n=n), reps, 11, expressed=expressed, private=private)
    est = np.array([r.estimate for r in res])
    lo = np.array([r.ci_low for r in res])
    hi = np.array([r.ci_high for r in res])
    truth = np.array([0.5, 0.3, 0.2])
    fpc = (big_n - n) / (big_n - 1)  # sampling without replacement
    sd_one = np.sqrt(truth * (1 - truth) / n * fpc)  # SD of one poll's share
    # unbiased: the mean of R polls has SE sd_one / sqrt(R)
    bias = est.mean(axis=0) - truth
    assert np.all(np.abs(bias) < Z4 * sd_one / math.sqrt(reps)), (bias, sd_one)
    # the spread of the estimates matches the reported SE: the sample SD of R normal draws
    # has relative SE 1 / sqrt(2 (R - 1)) (= 1.6 %)
    ratio = est.std(axis=0, ddof=1) / sd_one
    assert np.all(np.abs(ratio - 1) < Z4 / math.sqrt(2 * (reps - 1))), ratio
    se = np.array([r.se for r in res])
    assert np.allclose(se.mean(axis=0), sd_one, rtol=0.02)
    # coverage: binomial SE sqrt(.95 * .05 / R) = 0.0049; 4 SE -> [0.9305, 0.9695]
    cover = ((lo <= truth) & (truth <= hi)).mean(axis=0)
    tol = Z4 * math.sqrt(0.95 * 0.05 / reps)
    assert np.all(np.abs(cover - 0.95) < tol), cover
    # the truth is reported alongside
    assert np.allclose(res[0].true_expressed, truth)
    assert np.allclose(res[0].true_private, [0, 0, 1])


def test_finite_population_correction():
    # n = 1000 of N = 4000: the SD of a share is sqrt(f) = 0.866 times the binomial one; a
    # poll that ignored sampling without replacement (or drew with replacement) would have
    # a spread 15 % off, far outside 4 SE of the SD (6.3 % at R = 1000).
    big_n, n, reps = 4000, 1000, 1000
    x = population([2000, 1200, 800], seed=2)
    res = many_polls(PollDesign(n=n), reps, 12, expressed=x, private=x)
    est = np.array([r.estimate for r in res])
    truth = np.array([0.5, 0.3, 0.2])
    sd_one = np.sqrt(truth * (1 - truth) / n * (big_n - n) / (big_n - 1))
    ratio = est.std(axis=0, ddof=1) / sd_one
    assert np.all(np.abs(ratio - 1) < Z4 / math.sqrt(2 * (reps - 1))), ratio


def test_census_is_exact():
    x = population([30, 20, 10])
    r = run_poll(PollDesign(n=60), expressed=x, private=x, stance_labels=LABELS, seed=0)
    assert np.allclose(r.estimate, [0.5, 1 / 3, 1 / 6])
    assert np.all(r.se == 0) and np.all(r.ci_low == r.estimate)
    assert np.all(r.ci_high == r.estimate)
    assert sorted(r.respondents.tolist()) == list(range(60))


# -- the list experiment ------------------------------------------------------------------
def test_list_experiment_estimates_the_private_share():
    # 30 % privately pro, only 10 % say so (the others say "neutral").
    n, reps = 1000, 2000  # N = 100,000
    private = population([50_000, 20_000, 30_000], seed=3)
    expressed = private.copy()
    pro = np.flatnonzero(private == 2)
    expressed[pro[:20_000]] = 1
    design = PollDesign(n=n, list_experiment={"sensitive": "pro"})
    res = many_polls(design, reps, 13, expressed=expressed, private=private)
    le = np.array([r.list_experiment.estimate for r in res])
    le_se = np.array([r.list_experiment.se for r in res])
    le_lo = np.array([r.list_experiment.ci_low for r in res])
    le_hi = np.array([r.list_experiment.ci_high for r in res])
    direct = np.array([r.estimate[2] for r in res])
    direct_se = np.array([r.se[2] for r in res])
    pi = 0.3
    # theory: control count ~ sum of J=3 Bernoulli(1/2): variance 3/4 in each arm, plus
    # pi (1 - pi) in the treatment arm; n/2 per arm
    var_c = 3 * 0.25
    sd_list = math.sqrt((var_c + pi * (1 - pi)) / (n // 2) + var_c / (n - n // 2))
    # unbiased for the PRIVATE share
    assert abs(le.mean() - pi) < Z4 * sd_list / math.sqrt(reps), (le.mean(), sd_list)
    # the direct question estimates the expressed share (0.1), far from the private one
    sd_direct = math.sqrt(0.1 * 0.9 / n)
    assert abs(direct.mean() - 0.1) < Z4 * sd_direct / math.sqrt(reps)
    assert pi - direct.mean() > 100 * sd_direct / math.sqrt(reps)
    # its reported SE matches theory (relative SE of a sample variance with ~500 draws is
    # tiny: 2 % is many SE of the mean over R polls) and is far larger than the direct SE:
    # sqrt((2 * 0.75 + 0.21) * 2 / 0.09) = 6.2 times that of a direct question with p = 0.1
    assert abs(le_se.mean() / sd_list - 1) < 0.02
    assert abs(le.std(ddof=1) / sd_list - 1) < Z4 / math.sqrt(2 * (reps - 1))
    assert np.all(le_se > direct_se)
    assert le_se.mean() / direct_se.mean() == pytest.approx(sd_list / sd_direct, rel=0.03)
    cover = ((le_lo <= pi) & (pi <= le_hi)).mean()
    assert abs(cover - 0.95) < Z4 * math.sqrt(0.95 * 0.05 / reps), cover
    # tidy rows
    f = res[0].to_frame()
    row = f[f.method == "list_experiment"].iloc[0]
    assert row.stance == "pro" and row.n == n
    assert row.true_private == pytest.approx(0.3) and row.true_expressed == pytest.approx(0.1)


def test_list_experiment_control_items_follow_their_prevalences():
    # with nobody holding the sensitive stance, the estimate is the difference of two
    # control means: mean 0, SD sqrt(v / n_t + v / n_c), v = sum p_j (1 - p_j)
    x = population([600, 400, 0])
    prev = (0.1, 0.5, 0.9, 0.3)
    design = PollDesign(n=400, list_experiment={"sensitive": "pro", "items": 4,
                                                "prevalence": prev})
    res = many_polls(design, 1000, 14, expressed=x, private=x)
    le = np.array([r.list_experiment.estimate for r in res])
    v = sum(p * (1 - p) for p in prev)
    sd = math.sqrt(v / 200 + v / 200)
    assert abs(le.mean()) < Z4 * sd / math.sqrt(1000)
    assert abs(le.std(ddof=1) / sd - 1) < Z4 / math.sqrt(2 * 999)


# -- stratification -----------------------------------------------------------------------
def test_proportional_allocation_is_exact_largest_remainder():
    sizes = [5000, 3000, 1500, 499, 1]
    region = np.repeat(np.arange(5, dtype=np.int32), sizes)
    x = population([4000, 3000, 3000])
    for seed in range(5):
        r = run_poll(PollDesign(n=1000, stratify_by="region"), expressed=x, private=x,
                     stance_labels=LABELS, attributes={"region": region}, seed=seed)
        got = np.bincount(region[r.respondents], minlength=5).tolist()
        assert got == [500, 300, 150, 50, 0] == list(r.strata.values())
        assert len(set(r.respondents.tolist())) == 1000
    # ties go to the lower level; quotas always sum to n
    assert largest_remainder(100, [1000, 1000, 1000]).tolist() == [34, 33, 33]
    assert largest_remainder(7, [0.5, 0.25, 0.25]).tolist() == [3, 2, 2]  # 3.5, 1.75, 1.75
    # codes need not be 0..k-1
    age = np.repeat(np.array([-1, 18, 60], dtype=np.int64), [2000, 5000, 3000])
    r = run_poll(PollDesign(n=100, stratify_by="age"), expressed=x, private=x,
                 stance_labels=LABELS, attributes={"age": age}, seed=0)
    assert r.strata == {-1: 20, 18: 50, 60: 30}


def test_explicit_allocation_and_weights_correct_oversampling():
    # group 1 (20 % of people, 50 % "pro") is over-sampled at half the sample. The
    # unweighted share of "pro" is then E = 0.5 * 0.05 + 0.5 * 0.5 = 0.275, the weighted
    # one the truth 0.8 * 0.05 + 0.2 * 0.5 = 0.14.
    group = np.repeat(np.array([0, 1], dtype=np.int8), [8000, 2000])
    x = np.concatenate([population([7600, 0, 400], 1), population([1000, 0, 1000], 2)])
    reps, n = 400, 800
    for weight, expect in ((False, 0.275), (True, 0.14)):
        d = PollDesign(n=n, stratify_by="group", allocation={0: 0.5, 1: 0.5}, weight=weight)
        res = many_polls(d, reps, 15, expressed=x, private=x, attributes={"group": group})
        assert all(r.strata == {0: 400, 1: 400} for r in res)
        est = np.array([r.estimate[2] for r in res])
        # SD of one poll: within-stratum binomials, stratum weights 0.5/0.5 or 0.8/0.2
        w = (0.5, 0.5) if not weight else (0.8, 0.2)
        sd = math.sqrt(w[0] ** 2 * 0.05 * 0.95 / 400 * (7600 / 7999)
                       + w[1] ** 2 * 0.25 / 400 * (1600 / 1999))
        assert abs(est.mean() - expect) < Z4 * sd / math.sqrt(reps), (weight, est.mean())


# -- non-response and post-stratification ------------------------------------------------
def test_weights_correct_non_response_bias():
    # Group 1 (30 % of people; 40 % "pro") answers with probability 0.3, group 0 (70 %;
    # 5 % "pro") always. Non-respondents are replaced, so the respondents are a random
    # n-subset of a population with 14,000 of group 0 and 0.3 * 6,000 = 1,800 of group 1:
    # the unweighted share of "pro" tends to (700 + 720) / 15,800 = 0.0899 instead of the
    # true 0.035 + 0.12 = 0.155; weighting by group restores the truth.
    group = np.repeat(np.array([0, 1], dtype=np.int8), [14_000, 6_000])
    x = np.concatenate([population([13_300, 0, 700], 4), population([3_000, 600, 2_400], 5)])
    reps, n = 500, 1000
    base = {"n": n, "response": {1: 0.3}, "response_by": "group"}
    kw = {"expressed": x, "private": x, "attributes": {"group": group}}
    unw = many_polls(PollDesign(**base), reps, 16, **kw)
    wtd = many_polls(PollDesign(**base, weight=True), reps, 16, **kw)
    e_unw = np.array([r.estimate[2] for r in unw])
    e_wtd = np.array([r.estimate[2] for r in wtd])
    truth = 0.155
    assert unw[0].true_expressed[2] == pytest.approx(truth)
    # SE of each mean from the spread of its R polls (the weighted estimator's exact
    # variance depends on the random group counts)
    se_unw = e_unw.std(ddof=1) / math.sqrt(reps)
    se_wtd = e_wtd.std(ddof=1) / math.sqrt(reps)
    assert abs(e_wtd.mean() - truth) < Z4 * se_wtd, (e_wtd.mean(), se_wtd)
    assert abs(e_unw.mean() - 1420 / 15_800) < Z4 * se_unw, (e_unw.mean(), se_unw)
    assert truth - e_unw.mean() > 20 * se_unw
    # the weighted intervals (post-stratified variance) cover at the nominal rate
    # (4 binomial SE at R = 500: +-0.039) and the reported SE matches the spread (relative
    # SE of a sample SD: 1 / sqrt(2 (R - 1)))
    cover = np.mean([r.ci_low[2] <= truth <= r.ci_high[2] for r in wtd])
    assert abs(cover - 0.95) < Z4 * math.sqrt(0.95 * 0.05 / reps), cover
    ratio = np.mean([r.se[2] for r in wtd]) / e_wtd.std(ddof=1)
    assert abs(ratio - 1) < Z4 / math.sqrt(2 * (reps - 1)), ratio
    # group 1 is under-sampled (expected 1800/15800 = 11.4 %; binomial SE per poll 1 %)
    share1 = np.array([np.mean(group[r.respondents] == 1) for r in unw])
    assert abs(share1.mean() - 1800 / 15_800) < Z4 * math.sqrt(0.114 * 0.886 / n / reps)
    # contacts: n / (expected response rate 15,800 / 20,000)
    rate = np.array([r.response_rate for r in unw])
    assert rate.mean() == pytest.approx(0.79, abs=0.01)
    # weights match the population shares; Kish size below n
    r = wtd[0]
    assert np.isclose(r.weights.sum(), n)
    assert np.isclose(r.weights[group[r.respondents] == 1].sum() / n, 0.3)
    assert r.n_eff < n and r.weighted


def test_response_exhausted_raises():
    g = np.repeat(np.array([0, 1], dtype=np.int8), [50, 50])
    x = population([50, 30, 20])
    d = PollDesign(n=90, response={1: 0.01}, response_by="g")
    with pytest.raises(ParameterError, match="contacted"):
        run_poll(d, expressed=x, private=x, stance_labels=LABELS, attributes={"g": g},
                 seed=0)


# -- presence, errors, reproducibility ----------------------------------------------------
def test_absent_agents_are_never_sampled():
    big_n = 5000
    x = population([2500, 1500, 1000])
    gen = np.random.default_rng(6)
    present = gen.random(big_n) < 0.7
    region = gen.integers(0, 4, big_n).astype(np.int16)
    designs = [PollDesign(n=500), PollDesign(n=500, stratify_by="region", weight=True),
               PollDesign(n=500, response={0: 0.2}, response_by="region")]
    for d in designs:
        for r in many_polls(d, 50, 17, expressed=x, private=x, present=present,
                            attributes={"region": region}):
            assert present[r.respondents].all()
            assert len(np.unique(r.respondents)) == 500
    r = run_poll(PollDesign(n=int(present.sum())), expressed=x, private=x, present=present,
                 stance_labels=LABELS, seed=0)
    shares = np.bincount(x[present], minlength=3) / present.sum()
    assert np.allclose(r.true_expressed, shares) and np.allclose(r.estimate, shares)


def test_bad_input_raises_parameter_error():
    x = population([5, 3, 2])
    present = np.arange(10) < 6
    with pytest.raises(ParameterError, match="larger than the present"):
        run_poll(PollDesign(n=7), expressed=x, private=x, present=present,
                 stance_labels=LABELS, seed=0)
    with pytest.raises(ParameterError, match="unknown agent attribute"):
        run_poll(PollDesign(n=5, stratify_by="region"), expressed=x, private=x,
                 stance_labels=LABELS, seed=0)
    with pytest.raises(ParameterError, match="list experiment"):
        run_poll(PollDesign(n=5, list_experiment={"sensitive": "Z"}), expressed=x,
                 private=x, stance_labels=LABELS, seed=0)
    with pytest.raises(ParameterError, match="stance codes"):
        run_poll(PollDesign(n=5), expressed=x, private=x, stance_labels=("a", "b"), seed=0)
    g = np.repeat(np.array([0, 1], dtype=np.int8), [8, 2])
    with pytest.raises(ParameterError, match="quota exceeds"):
        run_poll(PollDesign(n=8, stratify_by="g", allocation={0: 0.5, 1: 0.5}),
                 expressed=x, private=x, stance_labels=LABELS, attributes={"g": g}, seed=0)
    for bad in [dict(n=0), dict(n=5, confidence=1.0), dict(n=5, allocation={0: 1.0}),
                dict(n=5, stratify_by="g", allocation={0: 0.5, 1: 0.4}),
                dict(n=5, response={0: 0.0}, response_by="g"), dict(n=5, response={0: 0.5}),
                dict(n=5, weight=True), dict(n=3, list_experiment={"sensitive": "pro"}),
                dict(n=5, list_experiment={"sensitive": "pro", "prevalence": 1.5}),
                dict(n=5, list_experiment={"sensitive": "pro", "items": 2,
                                           "prevalence": [0.5]}),
                dict(n=5, sample=3)]:
        with pytest.raises(ParameterError):
            PollDesign(**bad)


def test_same_seed_same_poll():
    big_n = 3000
    x = population([1500, 1000, 500])
    g = (np.arange(big_n) % 3).astype(np.int8)
    d = PollDesign(n=300, stratify_by="g", response={2: 0.4}, weight=True,
                   list_experiment={"sensitive": "pro"})
    kw = {"expressed": x, "private": x, "stance_labels": LABELS, "attributes": {"g": g}}
    a = run_poll(d, seed=42, **kw)
    b = run_poll(d, seed=42, **kw)
    c = run_poll(d, seed=43, **kw)
    assert np.array_equal(a.respondents, b.respondents)
    assert a.to_frame().equals(b.to_frame())
    assert not np.array_equal(np.sort(a.respondents), np.sort(c.respondents))


def test_polls_concatenate_into_one_tidy_frame():
    x = population([500, 300, 200])
    d = PollDesign(n=100, name="demoscope", list_experiment={"sensitive": "pro"})
    res = [run_poll(d, expressed=x, private=x, stance_labels=LABELS, seed=s, time=7.0 * s)
           for s in range(3)]
    f = polls_to_frame(res)
    assert len(f) == 3 * 4
    assert f.time.tolist() == [0.0] * 4 + [7.0] * 4 + [14.0] * 4
    assert set(f.method) == {"direct", "list_experiment"} and set(f.poll) == {"demoscope"}
    dates = ["2022-03-15", "2022-11-14", "2023-05-07"]
    assert polls_to_frame(res, dates).time.tolist() == [d for d in dates for _ in range(4)]
    with pytest.raises(ParameterError):
        polls_to_frame(res, dates[:2])


def test_a_sampling_frame_limits_who_is_asked():
    from steppe.observe.polls import PollDesign, run_poll

    age = np.repeat(np.array([0, 1], dtype=np.int64), [4000, 6000])
    private = np.where(age == 0, 1, 0).astype(np.int8)   # all children hold stance 1
    res = run_poll(PollDesign(n=3000, frame={"age": [1]}), expressed=private,
                   private=private, stance_labels=("a", "b"), attributes={"age": age},
                   seed=1)
    f = res.to_frame().set_index("stance")
    assert f.loc["b", "estimate"] == 0.0 and f.loc["b", "true_expressed"] == 0.0
    with pytest.raises(ParameterError):
        run_poll(PollDesign(n=7000, frame={"age": [1]}), expressed=private,
                 private=private, stance_labels=("a", "b"), attributes={"age": age}, seed=1)

