"""The contract every registered model fulfils (run once for all, like scikit-learn's
common tests): defaults construct, bad parameters give readable errors, the same seed gives
the same result, a run leaves the parameters unchanged, stances stay in their domain, counts
stay exact, committed agents never change."""

from __future__ import annotations

import typing

import annotated_types as at
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steppe.engine import Committed, init_state, simulate
from steppe.errors import ParameterError
from steppe.models import available_models, get_model
from steppe.networks.base import complete_graph

from ..conftest import ring

MODELS = sorted(available_models())


def test_registry_is_populated():
    for name in ("voter", "qvoter", "majority_rule", "sznajd", "majority_vote",
                 "binary_agreement", "centola"):
        assert name in MODELS


@pytest.mark.parametrize("name", MODELS)
def test_class_attributes(name):
    cls = get_model(name)
    assert cls.name == name
    assert cls.title and cls.summary and cls.references
    assert len(cls.stances) >= 2 and len(set(cls.stances)) == len(cls.stances)
    assert set(cls.default_initial) <= set(cls.stances)
    assert abs(sum(cls.default_initial.values()) - 1) < 1e-12
    assert cls.__doc__ or cls.__module__  # module documents the rule
    assert typing.get_type_hints(cls.advance)


@pytest.mark.parametrize("name", MODELS)
def test_defaults_construct_and_are_frozen(name):
    model = get_model(name)()
    fields = type(model.params).model_fields
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error
        setattr(model.params, next(iter(fields)), None) if fields else (_ for _ in ()).throw(
            TypeError("no fields"))


def _bad_values(info) -> list:
    """Values a field must refuse, derived from its declared type and range."""
    ann = info.annotation
    if typing.get_origin(ann) is typing.Literal:
        return ["__not_an_option__"]
    bad: list = [] if ann is str else ["not a number"]
    for m in info.metadata:
        if isinstance(m, at.Ge):
            bad.append(m.ge - 1)
        elif isinstance(m, at.Gt):
            bad.append(m.gt)
        elif isinstance(m, at.Le):
            bad.append(m.le + 1)
        elif isinstance(m, at.Lt):
            bad.append(m.lt)
    return bad


@pytest.mark.parametrize("name", MODELS)
def test_bad_parameters_give_readable_errors(name):
    cls = get_model(name)
    for field, info in cls.Params.model_fields.items():
        for value in _bad_values(info):
            with pytest.raises(ParameterError) as err:
                cls(**{field: value})
            text = str(err.value)
            assert f"{name}.{field}" in text and "allowed" in text and "given" in text
    with pytest.raises(ParameterError, match="unknown parameter"):
        cls(no_such_parameter=1)


def _run(name, net, seed, sweeps=5, committed=None, shares=None):
    model = get_model(name)()
    if shares is None:  # a mixed start, so that every model has something to do
        shares = {model.stances[0]: 0.5, model.stances[1]: 0.5}
    state = init_state(model, net, shares=shares, committed=committed, seed=seed)
    before = model.params.model_dump()
    traj = simulate(model, net, state, max_sweeps=sweeps, stop_at_consensus=False)
    assert model.params.model_dump() == before
    return model, state, traj


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("net", [complete_graph(60), ring(60)], ids=["complete", "ring"])
def test_same_seed_same_result(name, net):
    _, s1, t1 = _run(name, net, seed=11)
    _, s2, t2 = _run(name, net, seed=11)
    assert np.array_equal(s1.stance, s2.stance)
    assert np.array_equal(t1.counts, t2.counts)
    for key in s1.aux:
        assert np.array_equal(s1.aux[key], s2.aux[key])


def _fingerprint(state) -> bytes:
    parts = [state.stance.tobytes()]
    if state.opinion is not None:
        parts.append(state.opinion.tobytes())
    parts += [state.aux[k].tobytes() for k in sorted(state.aux)]
    return b"".join(parts)


@pytest.mark.parametrize("name", MODELS)
def test_different_seeds_differ(name):
    """The seed matters: the final states (with the per-agent arrays drawn at set-up, such
    as thresholds) differ between seeds."""
    net = complete_graph(200)
    results = {_fingerprint(_run(name, net, seed=s, sweeps=3)[1]) for s in range(4)}
    assert len(results) > 1


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("net", [complete_graph(80), ring(80)], ids=["complete", "ring"])
def test_domain_counts_and_committed(name, net):
    cls = get_model(name)
    stance = cls.stances[0]
    committed = Committed(stance=stance, fraction=0.2)
    model, state, traj = _run(name, net, seed=5, sweeps=10, committed=committed)
    k = len(cls.stances)
    assert state.stance.dtype == np.int8
    assert state.stance.min() >= 0 and state.stance.max() < k
    assert np.array_equal(state.counts, np.bincount(state.stance, minlength=k))
    assert np.all(traj.counts.sum(axis=1) == net.n)
    assert np.all(state.stance[state.committed] == model.stance_code(stance))
    assert state.committed.sum() == 16


@pytest.mark.parametrize("name", MODELS)
def test_consensus_is_absorbing_stop(name):
    """Started in consensus on a consensus stance, a run stops at once (continuous models:
    with consensus meaning one stance category; see the next test for converged
    opinions)."""
    cls = get_model(name)
    model = cls()
    if model.continuous:
        model.set_consensus("stance")
    code = model.consensus_codes()[0]
    net = complete_graph(50)
    state = init_state(model, net, shares={cls.stances[code]: 1.0}, seed=1)
    traj = simulate(model, net, state, max_sweeps=10, stop_at_consensus=True)
    assert traj.consensus_stance == code and traj.consensus_time == 0.0
    assert traj.final_time == 0.0


@pytest.mark.parametrize("name", [m for m in MODELS if get_model(m).continuous])
def test_continuous_consensus_means_converged_opinions(name):
    """By default a continuous model's consensus is one cluster of opinions (within the
    spread), not one category: opinions spread over a whole category are no consensus;
    the same opinions for everyone are."""
    model = get_model(name)()
    net = complete_graph(50)
    state = init_state(model, net, shares={model.stances[1]: 1.0}, seed=1)
    assert model.consensus_stance(state) is None  # one category, opinions spread out
    state.opinion[:] = model.representative(1)
    model.categorize(state)
    traj = simulate(model, net, state, max_sweeps=10, stop_at_consensus=True)
    assert traj.consensus_stance == 1 and traj.final_time == 0.0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(MODELS), n=st.integers(6, 40), share=st.floats(0, 1),
       frac=st.floats(0, 0.5), seed=st.integers(0, 2**32), use_ring=st.booleans())
def test_invariants_property(name, n, share, frac, seed, use_ring):
    """For any small system: stances stay in the domain, counts match, committed agents
    keep their stance, time never exceeds the limit."""
    cls = get_model(name)
    model = cls()
    a, b = cls.stances[0], cls.stances[1]
    net = ring(n) if use_ring else complete_graph(n)
    state = init_state(model, net, shares={a: share, b: 1 - share},
                       committed=Committed(stance=b, fraction=frac), seed=seed)
    frozen = state.stance[state.committed].copy()
    traj = simulate(model, net, state, max_sweeps=4, stop_at_consensus=True)
    k = len(cls.stances)
    assert 0 <= state.stance.min() and state.stance.max() < k
    assert np.array_equal(state.counts, np.bincount(state.stance, minlength=k))
    assert np.array_equal(state.stance[state.committed], frozen)
    assert traj.final_time <= 4 + 1e-12
    assert np.all(np.diff(traj.time) > 0)


@pytest.mark.parametrize("name", MODELS)
def test_the_complete_graph_is_the_same_however_it_is_stored(name):
    """The implicit complete graph and the same graph given edge by edge give the same
    dynamics: the mean final share of the first stance (or mean opinion) over 300 runs
    each agrees within 4 standard errors of the difference."""
    import networkx as nx

    from steppe.networks import from_networkx

    model = get_model(name)()
    if name == "sznajd":
        model = get_model(name)(variant="agree_only")
    n, runs = 24, 300
    out = []
    for net in (complete_graph(n), from_networkx(nx.complete_graph(n))):
        values = []
        for c in np.random.SeedSequence(31).spawn(runs):
            a, b = model.stances[0], model.stances[1]
            st_ = init_state(model, net, shares={a: 0.4, b: 0.6}, seed=c)
            model.advance(st_, net, 3, stop_at_consensus=False)
            values.append(st_.opinion.mean() if st_.opinion is not None
                          else np.mean(st_.stance == 0))
        out.append(np.asarray(values))
    se = np.sqrt(out[0].var(ddof=1) / runs + out[1].var(ddof=1) / runs)
    assert abs(out[0].mean() - out[1].mean()) <= 4 * se + 1e-12, (out[0].mean(),
                                                                    out[1].mean(), se)
