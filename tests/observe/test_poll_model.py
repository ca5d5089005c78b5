"""The poll model as real polls are made: non-response by private stance and attributes,
raking on several margins, "don't know" answers, questions as observation models, subgroup
rows, interview-language allocation, and list experiments with their design effects.

Tolerances as in ``test_polls.py``: a mean over R polls within 4 standard errors of its
expectation (derived from theory), a coverage rate within 4 binomial standard errors of the
nominal level.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from steppe.errors import ParameterError
from steppe.observe.list_experiment import ListExperiment, ask_list
from steppe.observe.polls import PollDesign, run_poll
from steppe.observe.questions import Question
from steppe.observe.weighting import poststratify, rake

LABELS = ("against", "neutral", "pro")
Z4 = 4.0


def _cells(seed=0, n=24_000):
    """A population with two ages (0 young, 1 old) and two groups, stance depending on both:
    the private (= voiced) share of "pro" is 0.1, 0.3 (young), 0.4, 0.6 (old)."""
    gen = np.random.default_rng(seed)
    age = gen.integers(0, 2, n)
    group = gen.integers(0, 2, n)
    p_pro = np.array([[0.1, 0.3], [0.4, 0.6]])[age, group]
    stance = np.where(gen.random(n) < p_pro, 2, np.where(gen.random(n) < 0.5, 0, 1))
    return stance.astype(np.int8), {"age": age, "group": group}


def test_non_response_by_private_stance_biases_as_expected():
    """Response 0.5, halved for those privately "pro": respondents are a uniform sample of
    a population thinned by response, so the expected share of "pro" is N_pro r_pro /
    sum_s N_s r_s."""
    x = np.repeat(np.arange(3, dtype=np.int8), [10_000, 6_000, 4_000])
    d = PollDesign(n=800, response_rate=0.5, response_factors={"stance": {2: 0.5}})
    gen = np.random.default_rng(3)
    reps = 300
    est = np.array([run_poll(d, expressed=x, private=x, stance_labels=LABELS,
                             seed=gen).estimate[2] for _ in range(reps)])
    want = 4000 * 0.25 / (10_000 * 0.5 + 6_000 * 0.5 + 4000 * 0.25)
    se = math.sqrt(want * (1 - want) / 800 / reps)  # at most: the fpc only lowers it
    assert abs(est.mean() - want) < Z4 * se
    # contacts: about n / mean response
    r = run_poll(d, expressed=x, private=x, stance_labels=LABELS, seed=1)
    assert 1500 < r.contacted < 2100


def reference_ipf(codes, pops, iters=2000):
    """Raking weights by plain iterative proportional fitting over the respondents."""
    w = np.ones(len(codes[0]))
    for _ in range(iters):
        for c, pop in zip(codes, pops, strict=True):
            target = pop / pop.sum() * len(w)
            got = np.bincount(c, weights=w, minlength=len(pop))
            w = w * (target / got)[c]
    return w / w.mean()


def test_raking_matches_plain_ipf_and_one_margin_is_poststratification():
    gen = np.random.default_rng(1)
    a, b, c = gen.integers(0, 3, 900), gen.integers(0, 2, 900), gen.integers(0, 4, 900)
    pops = [np.array([30.0, 50, 20]), np.array([48.0, 52]), np.array([10.0, 20, 30, 40])]
    w, unc = rake([a, b, c], pops)
    np.testing.assert_allclose(w, reference_ipf([a, b, c], pops), rtol=1e-7)
    assert unc == 0.0
    for codes, pop in zip([a, b, c], pops, strict=True):
        np.testing.assert_allclose(np.bincount(codes, weights=w) / w.sum(), pop / pop.sum(),
                                   atol=1e-9)
    w1, _ = rake([a], [pops[0]])
    np.testing.assert_allclose(w1, poststratify(a, pops[0])[0], rtol=1e-12)


def test_raking_undoes_multiplicative_non_response_and_covers():
    """Response = f(age) x g(group): the raked weights (a product over the margins) undo it
    in expectation, so the raked estimate is unbiased, and the linearized 95% intervals
    cover the truth at the nominal rate (within 4 binomial SE over 400 polls)."""
    stance, attrs = _cells()
    truth = np.mean(stance == 2)
    d = PollDesign(n=1000, response_rate=0.6,
                   response_factors={"age": {0: 0.4}, "group": {1: 0.5}},
                   weight=True, weight_by=["age", "group"])
    gen = np.random.default_rng(7)
    reps = 400
    est, cover, raw = [], 0, []
    for _ in range(reps):
        r = run_poll(d, expressed=stance, private=stance, stance_labels=LABELS,
                     attributes=attrs, seed=gen)
        est.append(r.estimate[2])
        cover += r.ci_low[2] <= truth <= r.ci_high[2]
        w = r.weights
        raw.append(np.mean(stance[r.respondents] == 2))
        assert abs(np.sum(w[attrs["age"][r.respondents] == 0]) / w.sum()
                   - np.mean(attrs["age"] == 0)) < 1e-8
    est = np.array(est)
    sd = est.std(ddof=1)
    assert abs(est.mean() - truth) < Z4 * sd / math.sqrt(reps)
    assert abs(np.mean(raw) - truth) > 10 * sd / math.sqrt(reps)  # unweighted: biased
    rate = cover / reps
    assert abs(rate - 0.95) < Z4 * math.sqrt(0.95 * 0.05 / reps), rate


def test_dont_know_and_questions_as_observation_models():
    # voiced: 0 against, 1 neutral, 2 pro, 3 dont_know
    voiced = np.repeat(np.arange(4, dtype=np.int8), [5000, 3000, 1500, 500])
    private = np.where(voiced == 3, 1, voiced).astype(np.int8)
    labels = (*LABELS, "dont_know")
    q = Question(name="support", answers=("yes", "no", "dont_know"),
                 map={"pro": {"yes": 1.0}, "neutral": {"yes": 0.2, "no": "rest"},
                      "against": {"no": 1.0}})
    d = PollDesign(n=1000, question=q)
    gen = np.random.default_rng(2)
    reps = 300
    res = [run_poll(d, expressed=voiced, private=private, stance_labels=labels, seed=gen)
           for _ in range(reps)]
    want = (1500 + 0.2 * 3000) / 10_000
    assert res[0].stances == ("yes", "no", "dont_know")
    np.testing.assert_allclose(res[0].true_expressed, [want, 1 - want - 0.05, 0.05])
    est = np.array([r.estimate[0] for r in res])
    assert abs(est.mean() - want) < Z4 * math.sqrt(want * (1 - want) / 1000 / reps)
    # the side question with "don't know" as an answer of its own
    r = run_poll(PollDesign(n=10_000), expressed=voiced, private=private,
                 stance_labels=labels, seed=0)
    assert r.estimate.tolist() == [0.5, 0.3, 0.15, 0.05]
    f = r.to_frame()
    assert set(f.stance) == set(labels) and (f.question == "stance").all()


def test_a_question_that_does_not_cover_every_answer_is_refused():
    q = Question(name="support", answers=("yes", "no"), map={"pro": {"yes": 1.0}})
    with pytest.raises(ParameterError, match="does not say how"):
        q.matrix(LABELS)
    with pytest.raises(ParameterError, match="sum to 1"):
        Question(name="q", answers=("yes", "no"), map={"pro": {"yes": 0.5}})


def test_subgroup_rows_are_the_estimates_among_their_respondents():
    stance, attrs = _cells(seed=4)
    d = PollDesign(n=1500, report_by=("age",))
    r = run_poll(d, expressed=stance, private=stance, stance_labels=LABELS,
                 attributes=attrs, seed=5, levels={"age": ["young", "old"]})
    f = r.to_frame()
    old = f[(f.by == "age") & (f.level == "old")].set_index("stance")
    resp = r.respondents[attrs["age"][r.respondents] == 1]
    assert old.loc["pro", "estimate"] == np.mean(stance[resp] == 2)
    assert old.loc["pro", "n"] == len(resp)
    assert old.loc["pro", "true_expressed"] == np.mean(stance[attrs["age"] == 1] == 2)


def test_interview_language_allocation_is_exact():
    gen = np.random.default_rng(0)
    lang = (gen.random(20_000) < 0.55).astype(np.int64)  # 1 = Russian, about 55%
    x = np.zeros(20_000, np.int8)
    d = PollDesign(n=1100, stratify_by="language", allocation={1: 0.77, 0: 0.23})
    r = run_poll(d, expressed=x, private=x, stance_labels=LABELS,
                 attributes={"language": lang}, seed=1)
    assert np.count_nonzero(lang[r.respondents] == 1) == 847  # 0.77 x 1100


# -- list experiments ---------------------------------------------------------------------
def _list_means(design, pi=0.3, n=1000, reps=400, seed=0):
    holds = np.zeros(n, bool)
    holds[: int(pi * n)] = True
    gen = np.random.default_rng(seed)
    out = [ask_list(design, holds, None, gen, z=1.96) for _ in range(reps)]
    est = np.array([e.estimate for e in out])
    return est, np.array([e.se for e in out])


def test_the_ideal_list_experiment_draws_as_before():
    """The ideal design draws the split, then the items, and nothing else (the estimate
    of the earlier implementation, recomputed here from the same draws)."""
    holds = np.zeros(500, bool)
    holds[:120] = True
    est = ask_list(ListExperiment(sensitive="pro", items=4), holds, None,
                   np.random.default_rng(9), z=1.96)
    gen = np.random.default_rng(9)
    perm = gen.permutation(500)
    treat = np.zeros(500, bool)
    treat[perm[:250]] = True
    count = (gen.random((500, 4)) < 0.5).sum(axis=1) + (treat & holds)
    assert est.estimate == count[treat].mean() - count[~treat].mean()


@pytest.mark.parametrize(("effects", "bias"), [
    ({}, lambda pi, p, j: 0.0),
    ({"omit": 0.3}, lambda pi, p, j: -0.3 * pi),
    ({"ceiling": 1.0}, lambda pi, p, j: -pi * p ** j),
    ({"floor": 1.0}, lambda pi, p, j: -pi * (1 - p) ** j),
    ({"deflation": 0.2}, lambda pi, p, j: -0.2 * j * p),
    ({"deflation": 0.2, "placebo": True}, lambda pi, p, j: 0.0),
    ({"correlation": 0.6}, lambda pi, p, j: 0.0),
])
def test_list_design_effects_bias_the_estimate_as_derived(effects, bias):
    """Expected estimate = pi + bias, the bias derived from each effect's definition (pi
    = 0.3, J = 3 items at p = 0.5): omission loses o pi; a ceiling loses pi p^J (holders
    of every control item); a floor loses pi (1 - p)^J; deflation without a placebo loses
    d J p (held control items uncounted on the longer list only); with a placebo both
    lists deflate alike; correlated items change only the variance."""
    design = ListExperiment(sensitive="pro", **effects)
    est, _ = _list_means(design)
    want = 0.3 + bias(0.3, 0.5, 3)
    sd = est.std(ddof=1)
    assert abs(est.mean() - want) < Z4 * sd / math.sqrt(len(est)), (est.mean(), want)


def test_correlated_items_widen_the_estimate():
    ideal, _ = _list_means(ListExperiment(sensitive="pro"), seed=1)
    corr, _ = _list_means(ListExperiment(sensitive="pro", correlation=0.6), seed=1)
    # variance ratio of two sample variances (400 each): F test at a far tail
    assert corr.var(ddof=1) / ideal.var(ddof=1) > 1.5
