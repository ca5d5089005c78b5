"""The calibration as a reader sees it: figures and a Markdown section from the
``calibration/`` folder that ``steppe calibrate`` writes (:mod:`steppe.experiments.calibrate`).

Every file is optional: what is missing is skipped, and a file that cannot be read (or lacks
a column) is skipped with a note in the section, so a calibration interrupted after a few
generations (``calibration.json``, ``posterior.parquet`` and ``generations.parquet`` only)
still gives a report.

What :func:`calibration_report` draws (PNG, 150 dpi, into the report folder):

- ``posterior_marginals.png``: one panel per assumption, the posterior (weighted histogram
  and weighted kernel density of the last generation's particles) over the prior's range,
  the prior's density as a dashed line (uniform unless the assumption declares a
  ``prior``); one colour per reading when there are several, and a dotted line where a
  reading fixes the assumption (from ``posterior.parquet``);
- ``posterior_pairs.png``: the most constrained assumptions (at most six, ranked by how much
  narrower the posterior's 90% interval is than the prior's), a corner plot: weighted
  histograms on the diagonal, weighted 2-D histograms below it (one reading) or particles
  coloured by reading and sized by weight (several readings);
- ``predictive.png``: every published figure (black point; vermillion diamond when outside)
  beside the posterior predictive median and 90% interval of the simulated poll of the same
  design, grouped by poll and question (``predictive.parquet``);
- ``calibration_diagnostics.png``: tolerance, acceptance rate and effective sample size
  (ESS) by generation, and the readings' posterior probabilities by generation when
  ``readings.parquet`` exists;
- ``loo.png``: the leave-one-out checks, each held-out figure beside its prediction from
  the calibration without it (``loo.parquet``);
- ``variants.png``: each variant's difference from the baseline over the same posterior
  draws, median and 90% interval, for the private, voiced and hidden share
  (``variants.parquet``);
- ``voi.png``: the value of information of each candidate survey: how much it is expected to
  narrow the 90% interval of the private share (``voi.parquet``).

The section (:func:`calibration_markdown`) states the settings, warns when the last
generation's ESS is below 20% of the population, gives the readings' posterior
probabilities, a table of the assumptions (prior, weighted posterior median, 90%
credible interval, how much narrower than the prior's 90% interval; with several readings
one row per reading and one for all readings weighed by their probabilities), the headline
shares with their posterior intervals (``outcomes.parquet``, whole population), the
published figures the fitted model still misses (figures held out of the fit,
``held_out``, counted apart), and the held-out checks, variants and value-of-information
tables when present.

Weighted quantiles (:func:`weighted_quantile`) are those ``steppe calibrate`` prints: the
smallest particle value whose cumulative weight reaches the probability (with a tolerance
of 1e-12 for rounding in the cumulative sum).

Examples
--------
>>> import numpy as np
>>> weighted_quantile([4.0, 1.0, 3.0, 2.0], [0.1, 0.2, 0.3, 0.4], [0.05, 0.5, 0.95]).tolist()
[1.0, 2.0, 4.0]
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import PowerNorm
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..experiments.calibrate import weighted_quantile
from ..priors import density as prior_density
from ..priors import describe as prior_text
from ..priors import from_dict as prior_from_dict
from ..priors import quantile as prior_quantile
from .plots import BLACK, BLUE, PALETTE, VERMILLION, _figure, _percent, _save
from .summary import _table, fmt_pct, fmt_pp

__all__ = [
    "CALIBRATION_DIR",
    "CalibrationReport",
    "CalibrationResults",
    "PriorRange",
    "Reading",
    "calibration_markdown",
    "calibration_report",
    "plot_diagnostics",
    "plot_loo",
    "plot_posterior_marginals",
    "plot_posterior_pairs",
    "plot_predictive",
    "plot_variants",
    "plot_voi",
    "read_calibration",
    "weighted_quantile",
]

#: the calibration's subfolder of a results folder
CALIBRATION_DIR = "calibration"
#: the central credible / predictive interval reported
LEVEL = 0.90
#: below this share of the population, the last generation's ESS earns a warning
ESS_WARNING = 0.20
#: at most this many assumptions in the corner plot
MAX_PAIRS = 6
GREY = "#777777"

#: columns each file needs (beyond these, extra columns are kept)
TARGET_KEYS = ["poll", "question", "by", "level", "answer", "value"]
NEEDS: dict[str, list[str]] = {
    "posterior.parquet": ["weight"],
    "generations.parquet": ["t", "epsilon", "samples", "acceptance", "ess"],
    "readings.parquet": ["t", "reading", "probability"],
    "predictive.parquet": [*TARGET_KEYS, "median", "low", "high", "inside"],
    "outcomes.parquet": ["time", "by", "measure", "low", "median", "high"],
    "loo.parquet": ["check", *TARGET_KEYS, "held_out", "median", "low", "high", "inside"],
    "variants.parquet": ["variant", "time", "by", "measure", "diff_median", "diff_low",
                         "diff_high"],
    "voi.parquet": ["design", "measure", "width_now", "width_expected", "narrowing"],
}
MEASURES = ("private", "voiced", "hidden")


# -- reading the folder -------------------------------------------------------------------
@dataclass(frozen=True)
class PriorRange:
    """One calibrated assumption: its name, the fields that carry it (the first is its
    column in ``posterior.parquet``), its prior's range (NaN when unknown) and its prior
    distribution over the range (:mod:`steppe.priors`; ``None``: uniform)."""

    name: str
    fields: tuple[str, ...]
    low: float
    high: float
    dist: Any = None

    @property
    def key(self) -> str:
        """The assumption's column in ``posterior.parquet`` (its first field)."""
        return self.fields[0]

    @property
    def width(self) -> float:
        """The prior range's width (NaN when unknown)."""
        return self.high - self.low

    @property
    def known(self) -> bool:
        """Whether the range is recorded (finite, ``low < high``)."""
        return math.isfinite(self.width) and self.width > 0

    def spread(self, level: float = LEVEL) -> float:
        """The width of the prior's central ``level`` interval (NaN when the range is
        unknown): what a posterior interval of the same level is compared with."""
        if not self.known:
            return math.nan
        lo, hi = prior_quantile(self.dist, self.low, self.high,
                                np.array([(1 - level) / 2, (1 + level) / 2]))
        return float(hi - lo)

    def density(self, x: np.ndarray) -> np.ndarray:
        """The prior density at ``x`` (the range must be known)."""
        return prior_density(self.dist, self.low, self.high, x)

    @property
    def text(self) -> str:
        """E.g. ``"0 to 1"`` (uniform) or ``"beta(2, 5) over 0 to 1"``."""
        if not self.known:
            return "not recorded"
        span = f"{_num(self.low)} to {_num(self.high)}"
        return span if self.dist is None else f"{prior_text(self.dist)} over {span}"


@dataclass(frozen=True)
class Reading:
    """One reading (model) of the calibration: its name, what it says, what it fixes."""

    name: str
    description: str = ""
    fixed: Mapping[str, Any] = field(default_factory=dict)
    #: the assumptions (keys) the reading leaves free; ``None`` when not recorded
    free: tuple[str, ...] | None = None

    @property
    def label(self) -> str:
        """How the text names it: ``"the hiding reading"`` (``"the posterior"`` when
        unnamed)."""
        if not self.name:
            return "the posterior"
        return (f"the {self.name}" if self.name.lower().endswith("reading")
                else f"the {self.name} reading")


@dataclass
class CalibrationResults:
    """What a ``calibration/`` folder holds; a part that is missing or unreadable is
    ``None`` (and an unreadable one has a line in ``notes``)."""

    path: Path
    meta: dict[str, Any]
    priors: list[PriorRange]
    readings: list[Reading]
    posterior: pd.DataFrame | None = None
    generations: pd.DataFrame | None = None
    reading_probabilities: pd.DataFrame | None = None
    predictive: pd.DataFrame | None = None
    outcomes: pd.DataFrame | None = None
    loo: pd.DataFrame | None = None
    variants: pd.DataFrame | None = None
    voi: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Whether nothing at all could be read."""
        return not self.meta and all(
            x is None for x in (self.posterior, self.generations, self.predictive,
                                self.outcomes, self.loo, self.variants, self.voi))

    @property
    def several(self) -> bool:
        """Whether the calibration compared several readings."""
        return len(self.readings) > 1

    @property
    def population(self) -> int | None:
        """Particles per generation (``calibration.json``, else the last generation's
        accepted count)."""
        pop = self.meta.get("population")
        if isinstance(pop, int | float) and pop > 0:
            return int(pop)
        g = self.generations
        if g is not None and "accepted" in g.columns and len(g):
            return int(g["accepted"].iloc[-1])
        return None

    def draws(self, reading: Reading) -> pd.DataFrame:
        """The posterior particles of one reading, weights normalised to sum to 1."""
        post = self.posterior
        if post is None:
            return pd.DataFrame(columns=["weight"])
        if self.several and "reading" in post.columns:
            post = post[post["reading"].astype(str) == reading.name]
        w = post["weight"].to_numpy(dtype=float)
        total = float(np.nansum(w))
        return post.assign(weight=w / total if total > 0 else w)

    def fixed_value(self, reading: Reading, prior: PriorRange) -> float | None:
        """The value a reading fixes an assumption at (any of its fields), or ``None``."""
        for f in prior.fields:
            if f in reading.fixed:
                try:
                    return float(reading.fixed[f])
                except (TypeError, ValueError):
                    return None
        return None

    def probabilities(self) -> dict[str, float] | None:
        """The readings' posterior probabilities at the last generation (``None`` when
        ``readings.parquet`` is absent)."""
        rp = self.reading_probabilities
        if rp is None or rp.empty:
            return None
        last = rp[rp["t"] == rp["t"].max()]
        got = last.groupby(last["reading"].astype(str))["probability"].sum()
        return {r.name: float(got.get(r.name, 0.0)) for r in self.readings}


def _note_unreadable(name: str, exc: BaseException) -> str:
    return f"{CALIBRATION_DIR}/{name}: cannot be read ({type(exc).__name__}: {exc}); skipped"


def _read_table(folder: Path, name: str, notes: list[str]) -> pd.DataFrame | None:
    path = folder / name
    if not path.is_file():
        return None
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # a truncated or foreign file: name it and go on
        notes.append(_note_unreadable(name, exc))
        return None
    missing = [c for c in NEEDS.get(name, []) if c not in frame.columns]
    if missing:
        notes.append(f"{CALIBRATION_DIR}/{name}: no column {', '.join(missing)}; skipped")
        return None
    if frame.empty:
        notes.append(f"{CALIBRATION_DIR}/{name}: holds no rows; skipped")
        return None
    return frame.reset_index(drop=True)


def _finite(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v if math.isfinite(v) else math.nan


def _priors(meta: Mapping[str, Any], posterior: pd.DataFrame | None,
            notes: list[str]) -> list[PriorRange]:
    out: list[PriorRange] = []
    bad = 0
    for p in meta.get("priors") or []:
        try:
            fields = tuple(str(f) for f in p["fields"]) or (str(p["name"]),)
            out.append(PriorRange(str(p.get("name") or fields[0]), fields,
                                  _finite(p.get("low")), _finite(p.get("high")),
                                  prior_from_dict(p.get("prior"))))
        except (KeyError, TypeError, AttributeError, ValueError):
            bad += 1
    if bad:
        notes.append(f"{CALIBRATION_DIR}/calibration.json: {bad} prior(s) without "
                     "'fields' or with an unreadable 'prior'; left out")
    if posterior is not None:
        if not out:  # no priors recorded: every numeric column, range unknown
            out = [PriorRange(str(c), (str(c),), math.nan, math.nan) for c in posterior.columns
                   if c not in ("reading", "weight")
                   and pd.api.types.is_numeric_dtype(posterior[c])]
        else:
            absent = [p.name for p in out if p.key not in posterior.columns]
            if absent:
                notes.append(f"{CALIBRATION_DIR}/posterior.parquet: no column for "
                             f"{', '.join(absent)}; left out")
                out = [p for p in out if p.key in posterior.columns]
    return out


def _readings(meta: Mapping[str, Any], posterior: pd.DataFrame | None) -> list[Reading]:
    listed: list[Reading] = []
    for r in meta.get("readings") or []:
        if isinstance(r, Mapping) and r.get("name") is not None:
            free = r.get("priors")
            listed.append(Reading(str(r["name"]), str(r.get("description") or ""),
                                  dict(r.get("fixed") or {}),
                                  tuple(map(str, free)) if isinstance(free, list) else None))
    if posterior is None or "reading" not in posterior.columns:
        return listed[:1] if len(listed) == 1 else [Reading("")]
    names = [r.name for r in listed]
    seen = [str(v) for v in dict.fromkeys(posterior["reading"].astype(str))]
    listed += [Reading(n) for n in seen if n not in names]
    return listed if listed else [Reading("")]


def read_calibration(folder: str | Path) -> CalibrationResults:
    """Read a ``calibration/`` folder; never raises for a missing or garbled file.

    Parameters
    ----------
    folder
        The folder ``steppe calibrate`` writes (``OUT/calibration``).

    Returns
    -------
    CalibrationResults
        The tables that could be read (``None`` for the others), the priors and readings
        from ``calibration.json`` (from the posterior's columns when it is missing), and a
        note for each file that was there but could not be used.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "calibration.json").write_text("{not json")
    >>> cal = read_calibration(d)
    >>> cal.posterior is None, cal.notes[0].startswith("calibration/calibration.json")
    (True, True)
    """
    d = Path(folder)
    notes: list[str] = []
    meta: dict[str, Any] = {}
    mp = d / "calibration.json"
    if mp.is_file():
        try:
            loaded = json.loads(mp.read_text(encoding="utf-8"))
            if not isinstance(loaded, dict):
                raise ValueError(f"a JSON {type(loaded).__name__}, not an object")
            meta = loaded
        except (OSError, ValueError) as exc:
            notes.append(_note_unreadable("calibration.json", exc))
    tables = {name: _read_table(d, name, notes) for name in NEEDS}
    post = tables["posterior.parquet"]
    priors = _priors(meta, post, notes)
    gens = tables["generations.parquet"]
    if gens is not None:
        gens = gens.sort_values("t", kind="stable").reset_index(drop=True)
    return CalibrationResults(
        path=d, meta=meta, priors=priors, readings=_readings(meta, post), posterior=post,
        generations=gens, reading_probabilities=tables["readings.parquet"],
        predictive=tables["predictive.parquet"], outcomes=tables["outcomes.parquet"],
        loo=tables["loo.parquet"], variants=tables["variants.parquet"],
        voi=tables["voi.parquet"], notes=notes)


# -- posterior statistics -----------------------------------------------------------------
@dataclass(frozen=True)
class _Stat:
    median: float
    low: float
    high: float
    narrower: float  # 1 - (high - low) / width of the prior's interval of the same level
    fixed: float | None = None
    particles: int = 0


def _stat(cal: CalibrationResults, reading: Reading, prior: PriorRange,
          level: float = LEVEL) -> _Stat:
    fixed = cal.fixed_value(reading, prior)
    d = cal.draws(reading)
    if prior.key not in d.columns:
        return _Stat(math.nan, math.nan, math.nan, math.nan, fixed)
    x = d[prior.key].to_numpy(dtype=float)
    n = int(np.isfinite(x).sum())
    if n == 0:
        return _Stat(math.nan, math.nan, math.nan, math.nan, fixed)
    lo, med, hi = weighted_quantile(x, d["weight"], [(1 - level) / 2, 0.5, (1 + level) / 2])
    width = prior.spread(level)
    narrower = 1 - (hi - lo) / width if width > 0 else math.nan
    return _Stat(float(med), float(lo), float(hi), float(narrower), None, n)


def _pooled_stat(cal: CalibrationResults, prior: PriorRange, probs: Mapping[str, float],
                 level: float = LEVEL) -> _Stat:
    """An assumption over all readings together: each particle weighted by its reading's
    probability times its weight within the reading, a fixed value where its reading fixes
    the assumption (as ``steppe calibrate`` prints it)."""
    post = cal.posterior
    if post is None or prior.key not in post.columns or "reading" not in post.columns:
        return _Stat(math.nan, math.nan, math.nan, math.nan)
    x = post[prior.key].to_numpy(dtype=float).copy()
    w = np.zeros(len(post))
    names = post["reading"].astype(str).to_numpy()
    raw = post["weight"].to_numpy(dtype=float)
    for r in cal.readings:
        m = names == r.name
        total = float(np.nansum(raw[m]))
        if total > 0:
            w[m] = probs.get(r.name, 0.0) * raw[m] / total
        fv = cal.fixed_value(r, prior)
        if fv is not None:
            x[m & ~np.isfinite(x)] = fv
    lo, med, hi = weighted_quantile(x, w, [(1 - level) / 2, 0.5, (1 + level) / 2])
    width = prior.spread(level)
    narrower = 1 - (hi - lo) / width if width > 0 else math.nan
    return _Stat(float(med), float(lo), float(hi), float(narrower))


def _constrained(cal: CalibrationResults, k: int = MAX_PAIRS) -> list[PriorRange]:
    """The ``k`` assumptions whose posterior interval is narrowest against the prior's
    (the largest narrowing over the readings), most constrained first."""
    ranked = []
    for i, p in enumerate(cal.priors):
        best = max((_stat(cal, r, p).narrower for r in cal.readings), key=_nan_low,
                   default=math.nan)
        if math.isfinite(best):
            ranked.append((-best, i, p))
    return [p for _, _, p in sorted(ranked)[:k]]


def _nan_low(v: float) -> float:
    return v if math.isfinite(v) else -math.inf


# -- text helpers -------------------------------------------------------------------------
def _num(v: float | None) -> str:
    """An assumption's value: three significant digits, thousands written out."""
    if v is None or not math.isfinite(v):
        return "–"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    text = f"{v:.3g}"
    return text.replace("-", "−") if v < 0 else text


def _duration(seconds: float) -> str:
    """A wall time in words: ``"42 s"``, ``"12 min"``, ``"3 h 05 min"``."""
    if not math.isfinite(seconds):
        return "–"
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 1 else f"{seconds:.2g} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    h, m = divmod(round(seconds / 60), 60)
    return f"{h} h {m:02d} min"


def _subgroup(by: Any, level: Any) -> str:
    return "all" if str(by) == "all" else f"{by} {level}"


def _when(row: Any, last_time: float) -> str:
    """A headline row's moment: its date (else its time in sweeps), ``(end)`` at the end."""
    date = getattr(row, "date", None)
    text = (pd.Timestamp(date).strftime("%Y-%m-%d") if date is not None and not pd.isna(date)
            else f"sweep {float(row.time):g}")
    return text + (" (end)" if float(row.time) == last_time else "")


def _wrap(text: str, width: int, lines: int = 3) -> str:
    parts = textwrap.wrap(str(text), width) or [""]
    return "\n".join(parts[:lines]) + ("\u2026" if len(parts) > lines else "")


def _interval_text(med: float, lo: float, hi: float, fmt: Callable[[float], str] = fmt_pct
                   ) -> str:
    if not math.isfinite(med):
        return "–"
    if fmt is fmt_pp:
        return f"{fmt(med)} ({fmt(lo)} to {fmt(hi)})"
    return f"{fmt(med)} ({fmt(lo)}–{fmt(hi)})"


# -- the Markdown section -----------------------------------------------------------------
def _settings_lines(cal: CalibrationResults) -> list[str]:
    m = cal.meta
    facts = []
    if cal.population:
        facts.append(f"population {cal.population:,} particles per generation")
    gens = cal.generations
    done = len(gens) if gens is not None else None
    asked = m.get("generations")
    if done is not None and isinstance(asked, int | float):
        facts.append(f"{done} of at most {int(asked)} generations")
    elif done is not None:
        facts.append(f"{done} generations")
    elif isinstance(asked, int | float):
        facts.append(f"at most {int(asked)} generations")
    if gens is not None:
        facts.append(f"{int(gens['samples'].sum()):,} simulations")
    disc = _finite(m.get("discrepancy"))
    if math.isfinite(disc):
        facts.append(f"model discrepancy {disc:g} ({100 * disc:g} points of share added to "
                     "each figure's standard error)")
    gen_secs = (float(gens["seconds"].sum()) if gens is not None and "seconds" in gens
                else math.nan)
    secs = _finite(m.get("seconds_total", m.get("seconds")))
    if math.isfinite(gen_secs):
        facts.append(f"{_duration(gen_secs)} of generations (every session)")
    elif math.isfinite(secs):
        facts.append(f"wall time {_duration(secs)}")
    targets = m.get("targets")
    if isinstance(targets, list) and targets:
        facts.append(f"{len(targets)} published figures")
    lines = []
    src = m.get("source")
    intro = ("Approximate Bayesian computation (ABC-SMC) of the scenario's assumptions from "
             "the published figures")
    intro += f" (`{src}`)." if src else "."
    lines += [intro, ""]
    if facts:
        lines += ["Settings: " + "; ".join(facts) + ".", ""]
    if m.get("stopped"):
        lines += [f"Stopped early: {m['stopped']}.".replace("..", "."), ""]
    if gens is not None and len(gens) and cal.population:
        ess = float(gens["ess"].iloc[-1])
        if ess < ESS_WARNING * cal.population:
            lines += [f"> **Warning:** the last generation's effective sample size is "
                      f"{ess:.0f} of {cal.population:,} particles "
                      f"({ess / cal.population:.0%}): the posterior rests on few effective "
                      "particles; treat intervals as rough.", ""]
    return lines


def _readings_lines(cal: CalibrationResults) -> list[str]:
    if not cal.several:
        return []
    lines = ["### Readings", ""]
    for r in cal.readings:
        fixed = ", ".join(f"`{k}` = {_num(_finite(v))}" for k, v in r.fixed.items())
        desc = r.description + (f" (fixes {fixed})" if fixed else "")
        lines.append(f"- **{r.name}**" + (f": {desc}" if desc else ""))
    lines.append("")
    probs = cal.probabilities()
    if probs is None:
        lines += ["The readings' posterior probabilities were not recorded (no "
                  "`readings.parquet`).", ""]
    else:
        text = "; ".join(f"{r.label}: {probs[r.name]:.2f}" for r in cal.readings)
        lines += [f"Which reading the figures favour: {text} (posterior probabilities given "
                  "these figures, equal prior odds).", ""]
    return lines


def _assumptions_lines(cal: CalibrationResults) -> list[str]:
    if cal.posterior is None or not cal.priors:
        return []
    several = cal.several
    probs = cal.probabilities() if several else None
    pooled = Reading("all readings, by probability")
    rows = []
    for p in cal.priors:
        prior = p.text
        for r in ([pooled] if probs else []) + cal.readings:
            s = _pooled_stat(cal, p, probs) if r is pooled and probs else _stat(cal, r, p)
            head = [p.name, r.name] if several else [p.name]
            if s.fixed is not None:
                rows.append([*head, prior, f"fixed at {_num(s.fixed)}", "–", "–"])
            elif not math.isfinite(s.median):
                kept = r.free is not None and p.key not in r.free
                rows.append([*head, prior, "not varied (as written)" if kept
                             else "no particles", "–", "–"])
            else:
                rows.append([*head, prior, _num(s.median), f"{_num(s.low)} to {_num(s.high)}",
                             fmt_pct(s.narrower)])
    header = ["assumption", *(["reading"] if several else []), "prior (uniform unless said)",
              "posterior median", f"{LEVEL:.0%} credible interval",
              f"narrower than the prior's {LEVEL:.0%}"]
    return ["### Assumptions", "",
            "Weighted median and central 90% credible interval of the last generation's "
            "particles" + ("; *all readings, by probability* weighs each reading's particles "
                           "by its posterior probability" if probs else "")
            + f"; *narrower than the prior's {LEVEL:.0%}* is 1 − (its width / the width "
            f"of the prior's central {LEVEL:.0%} interval): about 0% means the figures say "
            "nothing about the assumption (negative: the posterior leans to a part of the "
            "range the prior thought unlikely).", "",
            *_table(header, rows, left=2 if several else 1), ""]


def _headline_lines(cal: CalibrationResults) -> list[str]:
    o = cal.outcomes
    if o is None:
        return []
    o = o[o["by"].astype(str) == "all"]
    if o.empty:
        return []
    stances = (o["stance"].astype(str) if "stance" in o.columns
               else pd.Series("the focus stance", index=o.index))
    lines = ["### Headline", ""]
    for stance, g in o.groupby(stances, sort=False):
        last = float(g["time"].max())
        rows = []
        for _, h in g.groupby(g["time"].astype(float), sort=True):
            by_m = {str(m): r for m, r in zip(h["measure"], h.itertuples(index=False),
                                              strict=True)}
            cells = []
            for m in MEASURES:
                r = by_m.get(m)
                cells.append("–" if r is None else
                             _interval_text(float(r.median), float(r.low), float(r.high)))
            rows.append([_when(h.iloc[0], last), *cells])
        name = f"**{stance}**" if "stance" in o.columns else stance
        lines += [f"Share of the whole population holding (private), voicing (voiced) and "
                  f"hiding (private − voiced) {name}: posterior median and 90% interval "
                  "over the posterior predictive runs (one run per draw, so the interval "
                  "holds the assumptions' uncertainty and the run-to-run noise together).", "",
                  *_table(["date", "private", "voiced", "hidden"], rows), ""]
    return lines


def _misses_lines(cal: CalibrationResults) -> list[str]:
    p = cal.predictive
    if p is None:
        return []
    inside = p["inside"].fillna(False).astype(bool)
    held = _held(p)
    miss = p[~inside]
    fitted = ~held
    text = (f"{int((inside & fitted).sum())} of {int(fitted.sum())} "
            f"{'fitted' if held.any() else 'published'} figures lie inside the {LEVEL:.0%} "
            "posterior predictive interval of the simulated poll of the same design")
    if held.any():
        text += (f"; of the figures held out of the fit, {int((inside & held).sum())} of "
                 f"{int(held.sum())}")
    lines = ["### Figures the fitted model still misses", "",
             text + ("." if len(miss) else "; the fitted model misses none."), ""]
    if len(miss):
        rows = [[str(r.poll), str(r.question), _subgroup(r.by, r.level), str(r.answer),
                 *(["held out" if h else "fitted"] if held.any() else []),
                 fmt_pct(float(r.value)), fmt_pct(float(r.median)),
                 f"{fmt_pct(float(r.low))}–{fmt_pct(float(r.high))}"
                 if math.isfinite(float(r.low)) else "not simulated"]
                for r, h in zip(miss.itertuples(index=False), held[~inside], strict=True)]
        lines += _table(["poll", "question", "subgroup", "answer",
                         *(["in the fit"] if held.any() else []), "published",
                         "predictive median", f"{LEVEL:.0%} interval"], rows,
                        left=5 if held.any() else 4)
        lines.append("")
    return lines


def _true(v: Any) -> bool:
    """A flag from a table cell (NaN and None: False)."""
    return False if v is None or bool(pd.isna(v)) else bool(v)


def _held(frame: pd.DataFrame) -> pd.Series:
    """Which rows were held out of the fit (``held_out``; none when absent)."""
    if "held_out" not in frame.columns:
        return pd.Series(False, index=frame.index)
    return frame["held_out"].fillna(False).astype(bool)


def _loo_lines(cal: CalibrationResults) -> list[str]:
    loo = cal.loo
    if loo is None:
        return []
    held = loo[_held(loo)]
    if held.empty:
        return ["### Held-out checks", "", "`loo.parquet` marks no figure as held out.", ""]
    inside = held["inside"].fillna(False).astype(bool)
    rows = [[str(r.check), str(r.poll), str(r.question), _subgroup(r.by, r.level),
             str(r.answer), fmt_pct(float(r.value)),
             _interval_text(float(r.median), float(r.low), float(r.high)),
             "yes" if ok else "**no**"]
            for r, ok in zip(held.itertuples(index=False), inside, strict=True)]
    return ["### Held-out checks", "",
            f"Each check calibrates without some figures and predicts them: "
            f"{int(inside.sum())} of {len(held)} held-out figures lie inside their "
            f"{LEVEL:.0%} posterior predictive interval.", "",
            *_table(["check", "poll", "question", "subgroup", "answer", "published",
                     "predicted (90% interval)", "inside"], rows, left=5), ""]


def _variants_lines(cal: CalibrationResults) -> list[str]:
    v = cal.variants
    if v is None:
        return []
    v = v[v["by"].astype(str) == "all"]
    if v.empty:
        return []
    rows = []
    for variant, g in v.groupby(v["variant"].astype(str), sort=False):
        last = float(g["time"].max())
        for _, h in g.groupby(g["time"].astype(float), sort=True):
            by_m = {str(m): r for m, r in zip(h["measure"], h.itertuples(index=False),
                                              strict=True)}
            cells = [("–" if (r := by_m.get(m)) is None else _interval_text(
                float(r.diff_median), float(r.diff_low), float(r.diff_high), fmt_pp))
                for m in MEASURES]
            rows.append([variant, _when(h.iloc[0], last), *cells])
    return ["### Variants", "",
            "Each variant minus the baseline, over the same posterior draws (median and 90% "
            "interval of the difference, whole population).", "",
            *_table(["variant", "date", "private", "voiced", "hidden"], rows, left=2), ""]


def _voi_lines(cal: CalibrationResults) -> list[str]:
    v = cal.voi
    if v is None:
        return []
    v = v.sort_values("narrowing", ascending=False, kind="stable")
    rows = [[str(r.design), str(r.measure), f"{100 * float(r.width_now):.1f} pp",
             f"{100 * float(r.width_expected):.1f} pp", fmt_pct(float(r.narrowing))]
            for r in v.itertuples(index=False)]
    best = v.iloc[0]
    return ["### Which survey would narrow the answer most", "",
            f"Expected width of the {LEVEL:.0%} interval of the private share after "
            "fielding each candidate survey (value of information), against its width now. "
            f"The most informative: **{best['design']}** (expected "
            f"{fmt_pct(float(best['narrowing']))} narrower).", "",
            *_table(["design", "measure", "width now", "expected width", "narrowing"], rows,
                    left=2), ""]


def calibration_markdown(cal: CalibrationResults, *, figures: Sequence[str] = (),
                         notes: Sequence[str] = ()) -> str:
    """The calibration section of ``summary.md`` (what it holds: the module docstring).

    Parameters
    ----------
    cal
        The calibration, as :func:`read_calibration` returns it.
    figures
        File names of the figures drawn (shown at the end of the section).
    notes
        Further notes (figures that could not be drawn), after the folder's own.

    Returns
    -------
    str
        Markdown, starting with ``## Calibration``.

    Examples
    --------
    >>> import pandas as pd, pathlib
    >>> cal = CalibrationResults(pathlib.Path("calibration"), {"population": 10},
    ...     [PriorRange("share", ("s",), 0.0, 1.0)], [Reading("")],
    ...     posterior=pd.DataFrame({"s": [0.2, 0.4, 0.6], "weight": [0.3, 0.4, 0.3]}))
    >>> md = calibration_markdown(cal)
    >>> "| share | 0 to 1 | 0.4 | 0.2 to 0.6 | 55.6% |" in md
    True
    """
    lines = ["## Calibration", ""]
    if cal.empty:
        lines += [f"The `{CALIBRATION_DIR}/` folder holds nothing that could be read.", ""]
    else:
        lines += _settings_lines(cal)
        lines += _readings_lines(cal)
        lines += _assumptions_lines(cal)
        lines += _headline_lines(cal)
        if cal.outcomes is None and cal.predictive is None:
            lines += ["No posterior predictive yet (`predictive.parquet` and "
                      "`outcomes.parquet` are written once the calibration ends).", ""]
        lines += _misses_lines(cal)
        lines += _loo_lines(cal)
        lines += _variants_lines(cal)
        lines += _voi_lines(cal)
    for n in [*cal.notes, *notes]:
        lines += [f"> Note: {n}", ""]
    if figures:
        lines += ["### Calibration figures", ""]
        for f in figures:
            lines += [f"![{Path(f).stem}]({Path(f).name})", ""]
    return "\n".join(lines).rstrip() + "\n"


# -- figures ------------------------------------------------------------------------------
def _reading_colours(cal: CalibrationResults) -> dict[str, str]:
    return {r.name: PALETTE[i % len(PALETTE)] for i, r in enumerate(cal.readings)}


def _kde(x: np.ndarray, w: np.ndarray, grid: np.ndarray, low: float, high: float
         ) -> np.ndarray | None:
    """A weighted Gaussian kernel density on ``grid``, reflected at the prior's bounds
    (Silverman's bandwidth with the effective sample size); ``None`` with < 2 particles."""
    ok = np.isfinite(x) & np.isfinite(w) & (w > 0)
    if ok.sum() < 2:
        return None
    x, w = x[ok], w[ok] / w[ok].sum()
    mean = float(np.sum(w * x))
    sd = math.sqrt(float(np.sum(w * (x - mean) ** 2)))
    lo, hi = weighted_quantile(x, w, [0.25, 0.75])
    spread = min(sd, (hi - lo) / 1.34) or sd
    n_eff = 1.0 / float(np.sum(w ** 2))
    span = (high - low) if math.isfinite(high - low) and high > low else float(np.ptp(x))
    h = 0.9 * spread * n_eff ** -0.2 if spread > 0 else 0.0
    h = max(h, 0.01 * span) if span > 0 else (h or 1.0)
    centres = [x]
    if math.isfinite(low):
        centres.append(2 * low - x)
    if math.isfinite(high):
        centres.append(2 * high - x)
    dens = np.zeros_like(grid)
    for c in centres:
        z = (grid[:, None] - c[None, :]) / h
        dens += (np.exp(-0.5 * z ** 2) * w[None, :]).sum(axis=1)
    return dens / (h * math.sqrt(2 * math.pi))


def _extent(cal: CalibrationResults, p: PriorRange) -> tuple[float, float]:
    if p.known:
        return p.low, p.high
    x = cal.posterior[p.key].to_numpy(dtype=float) if cal.posterior is not None else []
    x = np.asarray(x)[np.isfinite(x)]
    if x.size == 0:
        return 0.0, 1.0
    lo, hi = float(x.min()), float(x.max())
    pad = 0.05 * (hi - lo) if hi > lo else max(abs(lo) * 0.1, 0.1)
    return lo - pad, hi + pad


def _grid_shape(n: int) -> tuple[int, int]:
    ncols = 1 if n == 1 else 2 if n <= 4 else 3 if n <= 9 else 4 if n <= 16 else 5
    return math.ceil(n / ncols), ncols


def _compact_ticks(ax: Axes, axis: str = "x") -> None:
    a = ax.xaxis if axis == "x" else ax.yaxis
    a.set_major_locator(MaxNLocator(nbins=4))
    a.set_major_formatter(FuncFormatter(lambda v, _p: _num(v) if v != 0 else "0"))


def plot_posterior_marginals(cal: CalibrationResults, path: str | Path, *,
                             title: str = "") -> Path:
    """One panel per assumption: the posterior of each reading over the prior range.

    Parameters
    ----------
    cal
        A calibration with a posterior (:func:`read_calibration`).
    path
        The PNG to write (atomically).
    title
        First line of the figure's title.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import pandas as pd, pathlib, tempfile
    >>> cal = CalibrationResults(pathlib.Path("c"), {}, [PriorRange("a", ("a",), 0, 1)],
    ...     [Reading("")], posterior=pd.DataFrame({"a": [0.2, 0.3, 0.5], "weight": 1 / 3}))
    >>> plot_posterior_marginals(cal, pathlib.Path(tempfile.mkdtemp()) / "m.png").name
    'm.png'
    """
    priors = cal.priors
    nrows, ncols = _grid_shape(max(len(priors), 1))
    fig = _figure(min(2.85 * ncols + 0.6, 15.0), 2.05 * nrows + 1.5)
    fig.get_layout_engine().set(w_pad=0.08, wspace=0.06)  # end ticks of neighbours apart
    axes = fig.subplots(nrows, ncols, squeeze=False)
    colours = _reading_colours(cal)
    several = cal.several
    fixed_any = False
    for i, p in enumerate(priors):
        ax = axes[i // ncols][i % ncols]
        low, high = _extent(cal, p)
        grid = np.linspace(low, high, 201)
        bins = np.linspace(low, high, 21)
        top = 0.0
        for r in cal.readings:
            c = colours[r.name]
            d = cal.draws(r)
            x = d[p.key].to_numpy(dtype=float) if p.key in d.columns else np.array([])
            w = d["weight"].to_numpy(dtype=float)
            ok = np.isfinite(x)
            if not ok.any():
                fv = cal.fixed_value(r, p)
                if fv is not None:  # a line, and a marker on top (seen at the range's ends)
                    ax.axvline(fv, color=c, linestyle=":", linewidth=1.8)
                    ax.plot([fv], [1.0], marker="v", color=c, markersize=7, clip_on=False,
                            transform=ax.get_xaxis_transform(), zorder=5)
                    fixed_any = True
                continue
            hist, _ = np.histogram(x[ok], bins=bins, weights=w[ok], density=True)
            ax.stairs(hist, bins, color=c, fill=not several, alpha=0.25 if not several
                      else 0.8, linewidth=0.8)
            dens = _kde(x, w, grid, low, high)
            if dens is not None:
                ax.plot(grid, dens, color=c, linewidth=1.6)
            top = max(top, float(np.nanmax(hist, initial=0.0)),
                      float(np.nanmax(dens, initial=0.0)) if dens is not None else 0.0)
        if p.known:
            prior = p.density(grid)
            ax.plot(grid, prior, color=GREY, linestyle="--", linewidth=1.0)
            top = max(top, float(np.nanmax(prior, initial=0.0)))
        ax.set_xlim(low, high)
        ax.set_ylim(0, top * 1.12 if top > 0 else 1.0)
        ax.set_yticks([])
        _compact_ticks(ax)
        ax.tick_params(labelsize=7)
        ax.set_title(_wrap(p.name, 34) + ("" if p.dist is None
                                          else f"\nprior {prior_text(p.dist)}"), fontsize=7.5)
    for j in range(len(priors), nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    handles: list[Any] = []
    labels: list[str] = []
    if several:
        for r in cal.readings:
            handles.append(Line2D([], [], color=colours[r.name], linewidth=1.6))
            labels.append(f"{r.name} reading" if not r.name.endswith("reading") else r.name)
    else:
        handles.append((Patch(facecolor=BLUE, alpha=0.25, linewidth=0),
                        Line2D([], [], color=BLUE, linewidth=1.6)))
        labels.append("posterior: weighted histogram and kernel density")
    handles.append(Line2D([], [], color=GREY, linestyle="--"))
    labels.append("prior (uniform over the range)" if all(p.dist is None for p in priors)
                  else "prior (its density over the range)")
    if fixed_any:
        handles.append(Line2D([], [], color=BLACK, linestyle=":", linewidth=1.8,
                              marker="v", markersize=6))
        labels.append("value a reading fixes")
    _fig_legend(fig, handles, labels, ncols=2 if ncols < 4 else 4)
    sub = "Posterior of each assumption over its prior range (x axis: the whole range)"
    fig.suptitle((title + "\n" if title else "") + sub, fontsize=11)
    return _save(fig, Path(path))


def _fig_legend(fig: Any, handles: list[Any], labels: list[str], ncols: int = 4) -> None:
    from matplotlib.legend_handler import HandlerTuple

    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(handles), ncols),
               frameon=False, fontsize=8.5, handler_map={tuple: HandlerTuple(ndivide=1)})


def plot_posterior_pairs(cal: CalibrationResults, path: str | Path, *, title: str = "",
                         k: int = MAX_PAIRS) -> Path | None:
    """A corner plot of the ``k`` most constrained assumptions (``None`` when fewer than
    two have a posterior interval).

    Parameters
    ----------
    cal
        A calibration with a posterior.
    path
        The PNG to write.
    title
        First line of the title.
    k
        At most this many assumptions, ranked by how much narrower their 90% interval is
        than the prior range (the largest narrowing over the readings).

    Returns
    -------
    pathlib.Path or None
        ``path``, or ``None`` when nothing was drawn.

    Examples
    --------
    >>> import pandas as pd, pathlib, tempfile
    >>> pr = [PriorRange("a", ("a",), 0, 1), PriorRange("b", ("b",), 0, 1)]
    >>> cal = CalibrationResults(pathlib.Path("c"), {}, pr, [Reading("")],
    ...     posterior=pd.DataFrame({"a": [.1, .2, .4], "b": [.5, .6, .9], "weight": 1 / 3}))
    >>> plot_posterior_pairs(cal, pathlib.Path(tempfile.mkdtemp()) / "p.png").name
    'p.png'
    """
    chosen = _constrained(cal, k)
    if len(chosen) < 2:
        return None
    n = len(chosen)
    size = 2.05 if n > 3 else 2.6
    fig = _figure(size * n + 1.2, size * n + 1.4)
    axes = fig.subplots(n, n, squeeze=False)
    colours = _reading_colours(cal)
    several = cal.several
    draws = {r.name: cal.draws(r) for r in cal.readings}
    ext = {p.key: _extent(cal, p) for p in chosen}
    for i, py in enumerate(chosen):
        for j, px in enumerate(chosen):
            ax = axes[i][j]
            if j > i:
                ax.set_visible(False)
                continue
            for r in cal.readings:
                d = draws[r.name]
                c = colours[r.name]
                x = d[px.key].to_numpy(dtype=float)
                w = d["weight"].to_numpy(dtype=float)
                if i == j:
                    ok = np.isfinite(x)
                    if ok.any():
                        bins = np.linspace(*ext[px.key], 21)
                        hist, _ = np.histogram(x[ok], bins=bins, weights=w[ok])
                        ax.stairs(hist, bins, color=c, fill=not several,
                                  alpha=0.35 if not several else 0.9)
                    continue
                y = d[py.key].to_numpy(dtype=float)
                ok = np.isfinite(x) & np.isfinite(y)
                if not ok.any():
                    continue
                if several:
                    ax.scatter(x[ok], y[ok], s=4 + 60 * w[ok] / w[ok].max(), color=c,
                               alpha=0.5, linewidths=0)
                else:
                    # square-root shading, so that a few heavy particles do not hide
                    # the rest of the cloud
                    ax.hist2d(x[ok], y[ok], bins=20, weights=w[ok],
                              range=[ext[px.key], ext[py.key]], cmap="Blues",
                              cmin=1e-12, norm=PowerNorm(0.5, vmin=0))
            ax.set_xlim(*ext[px.key])
            if i != j:
                ax.set_ylim(*ext[py.key])
            else:
                ax.set_yticks([])
            _compact_ticks(ax)
            if i != j:
                _compact_ticks(ax, "y")
            ax.tick_params(labelsize=6.5)
            if i == n - 1:
                ax.set_xlabel(_wrap(px.name, 26), fontsize=7.5)
                for lab in ax.get_xticklabels():
                    lab.set_rotation(30)
            else:
                ax.tick_params(labelbottom=False)
            if j == 0 and i > 0:
                ax.set_ylabel(_wrap(py.name, 26), fontsize=7.5)
            elif i != j:
                ax.tick_params(labelleft=False)
    if several:
        _fig_legend(fig, [Line2D([], [], marker="o", linestyle="", color=colours[r.name])
                          for r in cal.readings],
                    [r.name for r in cal.readings])
    sub = (f"The {n} most constrained assumptions (90% interval narrowest against the prior "
           "range); " + ("particles sized by weight" if several
                         else "shading: posterior weight"))
    fig.suptitle((title + "\n" if title else "") + sub, fontsize=10)
    return _save(fig, Path(path))


def _interval_rows(ax: Axes, frame: pd.DataFrame, group_cols: Sequence[str],
                   label: Callable[[Any], str], *, header: Callable[[tuple[Any, ...]], str]
                   ) -> None:
    """Rows of published figures against their predicted intervals, grouped under bold
    header rows; misses in vermillion."""
    keys = frame[list(group_cols)].astype(str).apply(tuple, axis=1)
    ticks: list[float] = []
    texts: list[str] = []
    kinds: list[str] = []
    y = 0.0
    for key in dict.fromkeys(keys):
        g = frame[keys == key]
        if ticks:
            y -= 0.4
            ax.axhline(y + 0.7, color="#cccccc", linewidth=0.6)
        ticks.append(y)
        texts.append(header(key))
        kinds.append("header")
        y -= 1
        for r in g.itertuples(index=False):
            inside = _true(r.inside)
            if math.isfinite(float(r.low)):
                ax.plot([r.low, r.high], [y, y], color=BLUE, lw=5, alpha=0.35,
                        solid_capstyle="butt")
                ax.plot(r.median, y, "o", color=BLUE, ms=4)
            if inside:
                ax.plot(r.value, y, "o", color=BLACK, ms=4.5, zorder=4)
            else:
                ax.plot(r.value, y, "D", color=VERMILLION, ms=6, zorder=4)
            ticks.append(y)
            texts.append(label(r))
            kinds.append("in" if inside else "miss")
            y -= 1
    ax.set_yticks(ticks, texts, fontsize=7)
    for lab, kind in zip(ax.get_yticklabels(), kinds, strict=True):
        if kind == "header":
            lab.set_fontweight("bold")
        elif kind == "miss":
            lab.set_color(VERMILLION)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(y + 0.4, 0.6)
    ax.xaxis.set_major_formatter(FuncFormatter(_percent))
    ax.grid(True, axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    vals = pd.concat([frame["value"], frame["low"], frame["high"]]).to_numpy(dtype=float)
    top = min(1.0, float(np.nanmax(vals, initial=0.0)) * 1.08 + 0.01)
    ax.set_xlim(-0.015 * top, top)  # a point at 0% is drawn whole


def _interval_legend(fig: Any, what: str) -> None:
    _fig_legend(fig, ncols=2, handles=[
        Line2D([], [], color=BLUE, lw=5, alpha=0.35),
        Line2D([], [], color=BLUE, marker="o", lw=0, ms=4),
        Line2D([], [], color=BLACK, marker="o", lw=0, ms=4.5),
        Line2D([], [], color=VERMILLION, marker="D", lw=0, ms=6)],
        labels=[f"{what}: {LEVEL:.0%} interval", f"{what}: median", "published (inside)",
                "published (outside: a miss)"])


def _rows_height(frame: pd.DataFrame, groups: int) -> float:
    return 0.2 * (len(frame) + 1.4 * groups) + 1.9


def plot_predictive(predictive: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """Every published figure beside the posterior predictive median and 90% interval of
    its simulated poll, grouped by poll and question; misses in vermillion.

    Parameters
    ----------
    predictive
        ``predictive.parquet``: the targets' columns and ``median``, ``low``, ``high``,
        ``inside``.
    path
        The PNG to write.
    title
        First line of the title.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import pandas as pd, pathlib, tempfile
    >>> p = pd.DataFrame({"poll": ["P", "P"], "question": "stance", "by": "all",
    ...     "level": "all", "answer": ["a", "b"], "value": [0.3, 0.6], "median": [0.32, 0.4],
    ...     "low": [0.28, 0.35], "high": [0.36, 0.45], "inside": [True, False]})
    >>> plot_predictive(p, pathlib.Path(tempfile.mkdtemp()) / "pp.png").name
    'pp.png'
    """
    p = predictive.reset_index(drop=True)
    groups = p[["poll", "question"]].astype(str).drop_duplicates()
    fig = _figure(8.5, _rows_height(p, len(groups)))
    ax = fig.add_subplot(1, 1, 1)
    _interval_rows(ax, p, ["poll", "question"],
                   lambda r: f"{_subgroup(r.by, r.level)} · {r.answer}"
                             + (" (held out)" if _true(getattr(r, "held_out", False)) else ""),
                   header=lambda k: f"{k[0]} · {k[1]}")
    ax.set_xlabel("share of respondents (each figure's simulated poll: the same design)")
    inside = p["inside"].fillna(False).astype(bool)
    fitted = ~_held(p)
    fig.suptitle((title + "\n" if title else "") + f"{int((inside & fitted).sum())} of "
                 f"{int(fitted.sum())} {'fitted' if not fitted.all() else 'published'} "
                 f"figures inside their {LEVEL:.0%} posterior predictive interval",
                 fontsize=10.5)
    _interval_legend(fig, "posterior predictive")
    return _save(fig, Path(path))


def plot_loo(loo: pd.DataFrame, path: str | Path, *, title: str = "") -> Path | None:
    """Each held-out figure beside its prediction from the calibration without it, one
    group per check (``None`` when no row is held out).

    Parameters
    ----------
    loo
        ``loo.parquet``: ``check``, the targets' columns, ``held_out``, ``median``,
        ``low``, ``high``, ``inside``.
    path
        The PNG to write.
    title
        First line of the title.

    Returns
    -------
    pathlib.Path or None
        ``path``, or ``None`` when nothing was drawn.

    Examples
    --------
    >>> import pandas as pd, pathlib, tempfile
    >>> t = pd.DataFrame({"check": "fit A, predict B", "poll": "B", "question": "stance",
    ...     "by": "all", "level": "all", "answer": ["a"], "value": [0.3], "held_out": True,
    ...     "median": [0.25], "low": [0.2], "high": [0.35], "inside": [True]})
    >>> plot_loo(t, pathlib.Path(tempfile.mkdtemp()) / "loo.png").name
    'loo.png'
    """
    held = loo[_held(loo)].reset_index(drop=True)
    if held.empty:
        return None
    groups = held["check"].astype(str).nunique()
    fig = _figure(8.5, _rows_height(held, groups))
    ax = fig.add_subplot(1, 1, 1)
    _interval_rows(ax, held, ["check"],
                   lambda r: f"{r.poll} · {r.question} · {_subgroup(r.by, r.level)} · "
                             f"{r.answer}",
                   header=lambda k: _wrap(k[0], 70, 2))
    ax.set_xlabel("share of respondents")
    inside = int(held["inside"].fillna(False).astype(bool).sum())
    fig.suptitle((title + "\n" if title else "") + f"Held-out checks: {inside} of "
                 f"{len(held)} held-out figures inside the {LEVEL:.0%} interval predicted "
                 "without them", fontsize=10.5)
    _interval_legend(fig, "predicted without it")
    return _save(fig, Path(path))


def plot_diagnostics(generations: pd.DataFrame, path: str | Path, *,
                     population: int | None = None,
                     readings: pd.DataFrame | None = None,
                     colours: Mapping[str, str] | None = None, title: str = "") -> Path:
    """Tolerance, acceptance rate and effective sample size by generation (and the
    readings' posterior probabilities, when given).

    Parameters
    ----------
    generations
        ``generations.parquet``: ``t``, ``epsilon``, ``samples``, ``acceptance``, ``ess``.
    path
        The PNG to write.
    population
        Particles per generation: the ESS panel shows it and 20% of it.
    readings
        ``readings.parquet`` (``t``, ``reading``, ``probability``), or ``None``.
    colours
        Reading name → colour.
    title
        First line of the title.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import pandas as pd, pathlib, tempfile
    >>> g = pd.DataFrame({"t": [0, 1], "epsilon": [9.0, 5.0], "samples": [300, 500],
    ...                   "acceptance": [0.67, 0.4], "ess": [200.0, 150.0]})
    >>> plot_diagnostics(g, pathlib.Path(tempfile.mkdtemp()) / "d.png", population=200).name
    'd.png'
    """
    g = generations.sort_values("t", kind="stable")
    t = g["t"].to_numpy(dtype=float)
    panels = 4 if readings is not None and not readings.empty else 3
    fig = _figure(10.0 if panels == 4 else 12.0, 6.6 if panels == 4 else 3.6)
    axes = (fig.subplots(2, 2).ravel() if panels == 4 else fig.subplots(1, 3))
    eps = g["epsilon"].to_numpy(dtype=float)
    ax = axes[0]
    ax.plot(t, eps, "o-", color=BLUE)
    pos = eps[np.isfinite(eps) & (eps > 0)]
    if pos.size and pos.max() / pos.min() > 10:
        ax.set_yscale("log")
    ax.set_ylim(bottom=0) if ax.get_yscale() == "linear" else None
    ax.set_title("tolerance (distance in figure standard errors)", fontsize=9)
    ax = axes[1]
    ax.plot(t, g["acceptance"].to_numpy(dtype=float), "o-", color=VERMILLION)
    ax.yaxis.set_major_formatter(FuncFormatter(_percent))
    ax.set_ylim(0, 1.02)
    ax.set_title("acceptance rate (accepted / simulated)", fontsize=9)
    ax = axes[2]
    ess = g["ess"].to_numpy(dtype=float)
    ax.plot(t, ess, "o-", color=PALETTE[2], label="effective sample size")
    if population:
        ax.axhline(population, color=GREY, linestyle="--", linewidth=1,
                   label=f"population ({population:,})")
        ax.axhline(ESS_WARNING * population, color=VERMILLION, linestyle=":", linewidth=1,
                   label=f"{ESS_WARNING:.0%} of it: below, intervals are rough")
        ax.set_ylim(0, population * 1.08)
    else:
        ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, frameon=False, loc="best")
    ax.set_title("effective sample size of the weights", fontsize=9)
    if panels == 4 and readings is not None:
        ax = axes[3]
        colours = dict(colours or {})
        for i, (name, r) in enumerate(readings.groupby(readings["reading"].astype(str),
                                                       sort=False)):
            r = r.sort_values("t")
            ax.plot(r["t"].to_numpy(dtype=float), r["probability"].to_numpy(dtype=float),
                    "o-", color=colours.get(name, PALETTE[i % len(PALETTE)]), label=name)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7, frameon=False, loc="best")
        ax.set_title("posterior probability of each reading", fontsize=9)
    for ax in axes:
        ax.set_xlabel("generation", fontsize=8.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize=8)
        ax.grid(True, color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        if len(t):
            ax.set_xlim(t.min() - 0.3, t.max() + 0.3)
    sims = int(g["samples"].sum())
    fig.suptitle((title + "\n" if title else "") +
                 f"ABC-SMC by generation: {len(g)} generations, {sims:,} simulations",
                 fontsize=11)
    return _save(fig, Path(path))


def _forest(ax: Axes, frame: pd.DataFrame, variants: Sequence[str],
            colours: Mapping[str, str]) -> None:
    """Horizontal intervals of differences (in shares), one block of rows per variant."""
    y = 0.0
    ticks: list[float] = []
    for variant in variants:
        g = frame[frame["variant"].astype(str) == variant].sort_values("time")
        c = colours[variant]
        for r in g.itertuples(index=False):
            ax.plot([r.diff_low, r.diff_high], [y, y], color=c, lw=4, alpha=0.4,
                    solid_capstyle="butt")
            ax.plot(r.diff_median, y, "o", color=c, ms=4.5)
            ticks.append(y)
            y -= 1
        y -= 0.6
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_ylim((ticks[-1] if ticks else 0.0) - 0.6, 0.6)
    ends = np.concatenate([frame["diff_low"].to_numpy(dtype=float),
                           frame["diff_high"].to_numpy(dtype=float), [0.0]])
    ends = ends[np.isfinite(ends)]
    lo, hi = float(ends.min()), float(ends.max())
    pad = 0.06 * max(hi - lo, 1e-3)
    ax.set_xlim(lo - pad, hi + pad)
    ax.xaxis.set_major_formatter(FuncFormatter(_pp_tick))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    ax.grid(True, axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_yticks(ticks)


def _pp_tick(v: float, _pos: Any = None) -> str:
    """A tick label for a difference of shares, in points: ``+2.5 pp``, ``−1 pp``."""
    a = f"{100 * abs(v):.2f}".rstrip("0").rstrip(".")
    if a == "0":
        return "0"
    return ("+" if v > 0 else "−") + a + " pp"


def plot_variants(variants: pd.DataFrame, path: str | Path, *, title: str = "") -> Path | None:
    """Each variant minus the baseline (median and 90% interval over the same posterior
    draws) for the whole population: one panel per measure (private, voiced, hidden), one
    row per variant and date (``None`` when there is no whole-population row).

    Parameters
    ----------
    variants
        ``variants.parquet``.
    path
        The PNG to write.
    title
        First line of the title.

    Returns
    -------
    pathlib.Path or None
        ``path``, or ``None`` when nothing was drawn.

    Examples
    --------
    >>> import pandas as pd, pathlib, tempfile
    >>> v = pd.DataFrame({"variant": "propaganda", "time": 10.0, "date": None, "by": "all",
    ...     "level": "all", "measure": ["private", "voiced", "hidden"], "median": 0.3,
    ...     "low": 0.2, "high": 0.4, "diff_median": [0.02, 0.01, 0.01],
    ...     "diff_low": [-0.01, 0.0, -0.02], "diff_high": [0.05, 0.03, 0.03]})
    >>> plot_variants(v, pathlib.Path(tempfile.mkdtemp()) / "v.png").name
    'v.png'
    """
    v = variants[variants["by"].astype(str) == "all"].reset_index(drop=True)
    if v.empty:
        return None
    names = [str(x) for x in dict.fromkeys(v["variant"].astype(str))]
    colours = {n: PALETTE[(i + 2) % len(PALETTE)] for i, n in enumerate(names)}
    measures = [m for m in MEASURES if m in set(v["measure"].astype(str))] or \
        [str(x) for x in dict.fromkeys(v["measure"].astype(str))]
    labels: list[str] = []
    for n in names:
        g = v[(v["variant"].astype(str) == n) & (v["measure"].astype(str) == measures[0])]
        last = float(v.loc[v["variant"].astype(str) == n, "time"].max())
        labels += [f"{n} · {_when(r, last)}"
                   for r in g.sort_values("time").itertuples(index=False)]
    rows_n = len(labels)
    fig = _figure(3.0 * len(measures) + 2.8, 0.28 * (rows_n + 0.6 * len(names)) + 2.0)
    axes = fig.subplots(1, len(measures), sharey=True, squeeze=False)[0]
    for ax, m in zip(axes, measures, strict=True):
        _forest(ax, v[v["measure"].astype(str) == m], names, colours)
        ax.set_title({"private": "private (held)", "voiced": "voiced",
                      "hidden": "hidden (private − voiced)"}.get(m, m), fontsize=9)
        ax.tick_params(labelsize=7.5)
        ax.set_xlabel("variant − baseline", fontsize=8.5)
    axes[0].set_yticks(axes[0].get_yticks(), labels, fontsize=7.5)
    stance = ""
    if "stance" in v.columns and v["stance"].notna().any():
        stance = f" of {v['stance'].astype(str).iloc[0]!r}"
    fig.suptitle((title + "\n" if title else "") +
                 f"Variants: difference from the baseline{stance}, whole population "
                 "(median and 90% interval over the same posterior draws)", fontsize=10)
    return _save(fig, Path(path))


def plot_voi(voi: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """How much each candidate survey is expected to narrow the 90% interval of the
    private share (bars, largest first; one colour per measure).

    Parameters
    ----------
    voi
        ``voi.parquet``: ``design``, ``measure``, ``width_now``, ``width_expected``,
        ``narrowing``.
    path
        The PNG to write.
    title
        First line of the title.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import pandas as pd, pathlib, tempfile
    >>> v = pd.DataFrame({"design": ["list experiment, n=2000", "direct, n=1000"],
    ...     "measure": "private", "width_now": 0.1, "width_expected": [0.06, 0.09],
    ...     "narrowing": [0.4, 0.1]})
    >>> plot_voi(v, pathlib.Path(tempfile.mkdtemp()) / "voi.png").name
    'voi.png'
    """
    v = voi.sort_values("narrowing", ascending=False, kind="stable").reset_index(drop=True)
    measures = [str(x) for x in dict.fromkeys(v["measure"].astype(str))]
    colours = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(measures)}
    fig = _figure(8.5, 0.32 * len(v) + 1.9)
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(len(v))[::-1]
    nar = v["narrowing"].to_numpy(dtype=float)
    ax.barh(y, nar, color=[colours[str(m)] for m in v["measure"]], height=0.6, alpha=0.8)
    for yi, r in zip(y, v.itertuples(index=False), strict=True):
        ax.annotate(f"{100 * float(r.width_now):.1f} → {100 * float(r.width_expected):.1f} pp",
                    xy=(max(float(r.narrowing), 0.0), yi), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=7, color="#444444")
    ax.set_yticks(y, [_wrap(d, 48, 2) for d in v["design"].astype(str)], fontsize=7.5)
    ax.xaxis.set_major_formatter(FuncFormatter(_percent))
    top = float(np.nanmax(nar, initial=0.0))
    ax.set_xlim(min(0.0, float(np.nanmin(nar, initial=0.0))), max(top * 1.3, 0.05))
    ax.set_xlabel("expected narrowing of the 90% interval (1 − expected width / width now)")
    ax.grid(True, axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    if len(measures) > 1:
        _fig_legend(fig, [Patch(facecolor=colours[m], alpha=0.8) for m in measures], measures)
    ax.set_title("labels: the interval's width now → expected after the survey", fontsize=8.5,
                 color="#444444")
    fig.suptitle((title + "\n" if title else "") +
                 "Which survey would narrow the private share most", fontsize=11)
    return _save(fig, Path(path))


# -- the whole of it ----------------------------------------------------------------------
@dataclass
class CalibrationReport:
    """What :func:`calibration_report` wrote: the figures and the Markdown section."""

    files: list[Path]
    markdown: str
    calibration: CalibrationResults

    @property
    def has_results(self) -> bool:
        """Whether the section reports a posterior or a posterior predictive."""
        c = self.calibration
        return c.posterior is not None or c.outcomes is not None or c.predictive is not None


def calibration_report(folder: str | Path, out: str | Path, *, name: str = ""
                       ) -> CalibrationReport:
    """Draw the calibration's figures into ``out`` and write its Markdown section.

    Every figure is drawn only when its file could be read; a figure that fails is left out
    with a note in the section, so a partly written folder never stops the report.

    Parameters
    ----------
    folder
        The ``calibration/`` folder.
    out
        The report folder (created if needed).
    name
        The scenario's name, the first line of each figure's title.

    Returns
    -------
    CalibrationReport
        The files written (PNGs, in the order of the module docstring) and the section.

    Examples
    --------
    >>> import json, tempfile, pathlib, pandas as pd
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "calibration.json").write_text(json.dumps({"population": 3, "priors": [
    ...     {"name": "a", "fields": ["a"], "low": 0, "high": 1}]}))
    >>> pd.DataFrame({"a": [.1, .2, .4], "weight": 1 / 3}).to_parquet(d / "posterior.parquet")
    >>> rep = calibration_report(d, d / "report")
    >>> [p.name for p in rep.files], rep.markdown.startswith("## Calibration")
    (['posterior_marginals.png'], True)
    """
    cal = read_calibration(folder)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    notes: list[str] = []
    head = f"{name}: " if name else ""

    def draw(fname: str, fn: Callable[[Path], Path | None]) -> None:
        try:
            got = fn(out / fname)
        except Exception as exc:  # a table that reads but does not draw: say so, go on
            notes.append(f"{fname} not drawn ({type(exc).__name__}: {exc})")
            return
        if got is not None:
            files.append(got)

    if cal.posterior is not None and cal.priors:
        draw("posterior_marginals.png", lambda p: plot_posterior_marginals(
            cal, p, title=f"{head}posterior"))
        draw("posterior_pairs.png", lambda p: plot_posterior_pairs(
            cal, p, title=f"{head}posterior"))
    if cal.predictive is not None:
        draw("predictive.png", lambda p: plot_predictive(
            cal.predictive, p, title=f"{head}posterior predictive checks"))
    if cal.generations is not None:
        draw("calibration_diagnostics.png", lambda p: plot_diagnostics(
            cal.generations, p, population=cal.population,
            readings=cal.reading_probabilities if cal.several else None,
            colours=_reading_colours(cal), title=name))
    if cal.loo is not None:
        draw("loo.png", lambda p: plot_loo(cal.loo, p, title=name))
    if cal.variants is not None:
        draw("variants.png", lambda p: plot_variants(cal.variants, p, title=name))
    if cal.voi is not None:
        draw("voi.png", lambda p: plot_voi(cal.voi, p, title=name))
    try:
        text = calibration_markdown(cal, figures=[f.name for f in files], notes=notes)
    except Exception as exc:  # never lose the rest of the report over one table
        text = ("## Calibration\n\n> Note: the calibration section could not be written "
                f"({type(exc).__name__}: {exc})\n")
    return CalibrationReport(files=files, markdown=text, calibration=cal)
