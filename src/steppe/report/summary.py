"""The Markdown summary of a results folder, and observed polls read from a CSV file.

``summary.md`` states the scenario (name, description, model, runs, seed), a table of the
final private and expressed share of each stance across runs (median and 90% interval: the
5th and 95th percentiles, NumPy's default linear interpolation), the final hidden share
(private − expressed) of the focus stance, how many runs reached consensus, and, when
observed polls are given and the series has dates, each observed poll against the
simulated expressed and private share on its date, and whether it falls inside the
simulated 90% band. When the results folder also holds a calibration, a footnote under
these run intervals says that they are run-to-run noise at one setting of the assumptions
and that the calibration section (:mod:`steppe.report.calibration`) gives the uncertainty
from the assumptions.

Observed polls: a CSV file (``#`` starts a comment line) with a column ``n`` (sample size),
either a ``date`` column or ``fieldwork_start`` and ``fieldwork_end`` (the poll is placed at
the midpoint of its fieldwork), an optional ``pollster`` column, and one column per stance
giving the share of respondents, as a fraction in [0, 1]. The 95% interval is the binomial
normal approximation ``p ± 1.96·sqrt(p(1 − p)/n)``, clipped to [0, 1]: sampling error only
(design effects and non-response, which real polls also have, widen it further).

Examples
--------
>>> fmt_pct(0.1234), fmt_pp(-0.0257)
('12.3%', '−2.6 pp')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ScenarioError, SteppeError
from ..inputs import MAX_TEXT_BYTES, check_file
from ..observe.writers import atomic_path
from .plots import MIN_RUNS, Bands, ensemble_bands, small_ensemble_note, time_column

__all__ = [
    "final_shares",
    "fmt_pct",
    "fmt_pp",
    "read_observed_polls",
    "summary_markdown",
    "write_summary",
]

Z95 = 1.96
#: under the run bands, when the results folder also holds a calibration
MONTE_CARLO_FOOTNOTE = (
    "These intervals across runs are Monte Carlo (run-to-run) noise at one setting of the "
    "assumptions, the scenario as written; the Calibration section gives the uncertainty "
    "that comes from the assumptions themselves (posterior credible intervals).")


def fmt_pct(x: float) -> str:
    """A share as a percentage with one decimal (``"–"`` for NaN).

    Examples
    --------
    >>> fmt_pct(0.2), fmt_pct(float("nan"))
    ('20.0%', '–')
    """
    return "–" if x is None or not math.isfinite(x) else f"{100 * x:.1f}%"


def fmt_pp(x: float) -> str:
    """A difference of shares in percentage points, signed (``"–"`` for NaN).

    Examples
    --------
    >>> fmt_pp(0.05)
    '+5.0 pp'
    """
    if x is None or not math.isfinite(x):
        return "–"
    v = 100 * x
    if round(v, 1) == 0:
        return "0.0 pp"
    return f"{'+' if v > 0 else '−'}{abs(v):.1f} pp"


def _interval(a: np.ndarray, fmt: Any = fmt_pct) -> tuple[str, str]:
    """Median and 90% interval of ``a`` as text."""
    a = np.asarray(a, dtype=float)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return "–", "–"
    lo, med, hi = np.quantile(a, [0.05, 0.5, 0.95])
    return fmt(med), f"{fmt(lo)} to {fmt(hi)}" if fmt is fmt_pp else f"{fmt(lo)}–{fmt(hi)}"


def read_observed_polls(path: str | Path, columns: Mapping[str, str] | None,
                        stances: Sequence[str]) -> pd.DataFrame:
    """Read observed polls: one row per poll and stance, with a 95% binomial interval.

    Parameters
    ----------
    path
        The CSV file (format in the module docstring).
    columns
        Stance label → CSV column holding its share. ``None``: every stance whose label
        is also a column name.
    stances
        The model's stance labels.

    Returns
    -------
    pandas.DataFrame
        Columns ``poll`` (pollster and month), ``pollster``, ``date`` (fieldwork midpoint),
        ``stance``, ``estimate``, ``n``, ``ci_low``, ``ci_high``.

    Raises
    ------
    SteppeError
        The file lacks a needed column, names an unknown stance, or holds a share
        outside [0, 1]; the message names the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "polls.csv"
    >>> _ = p.write_text("# a comment\\npollster,date,n,yes\\nX,2022-03-15,100,0.5\\n")
    >>> r = read_observed_polls(p, {"A": "yes"}, ["A", "B"]).iloc[0]
    >>> r["stance"], round(float(r["ci_low"]), 4), round(float(r["ci_high"]), 4)
    ('A', 0.402, 0.598)
    """
    path = Path(path)
    try:
        check_file(path, what="observed polls file", limit=MAX_TEXT_BYTES)
        df = pd.read_csv(path, comment="#", skipinitialspace=True)
    except ScenarioError as exc:
        raise SteppeError(f"{exc.file}: cannot read observed polls: {exc.message}") from None
    except (OSError, ValueError) as exc:
        raise SteppeError(f"{path}: cannot read observed polls: {exc}") from None
    if "date" in df.columns:
        date = pd.to_datetime(df["date"])
    elif {"fieldwork_start", "fieldwork_end"} <= set(df.columns):
        start = pd.to_datetime(df["fieldwork_start"])
        end = pd.to_datetime(df["fieldwork_end"])
        date = start + (end - start) / 2
    elif "fieldwork_start" in df.columns:
        date = pd.to_datetime(df["fieldwork_start"])
    else:
        raise SteppeError(f"{path}: observed polls need a 'date' column or "
                          f"'fieldwork_start' and 'fieldwork_end'; columns: "
                          f"{', '.join(map(str, df.columns))}")
    if columns is None:
        columns = {s: s for s in stances if s in df.columns}
    unknown = [s for s in columns if s not in stances]
    if unknown:
        raise SteppeError(f"{path}: observed_columns names unknown stance(s) "
                          f"{', '.join(unknown)} (stances: {', '.join(stances)})")
    missing = [c for c in columns.values() if c not in df.columns]
    if missing:
        raise SteppeError(f"{path}: no column {', '.join(map(repr, missing))} "
                          f"(columns: {', '.join(map(str, df.columns))})")
    n = (pd.to_numeric(df["n"], errors="coerce") if "n" in df.columns
         else pd.Series(np.nan, index=df.index))
    pollster = (df["pollster"].astype(str) if "pollster" in df.columns
                else pd.Series("poll", index=df.index))
    frames = []
    for stance, col in columns.items():
        p = pd.to_numeric(df[col], errors="coerce")
        if ((p < 0) | (p > 1)).any():
            raise SteppeError(f"{path}: column {col!r} must hold shares in [0, 1] "
                              f"(fractions, not percentages); given {p.max()!r}")
        half = Z95 * np.sqrt(p * (1 - p) / n)
        frames.append(pd.DataFrame({
            "poll": [f"{a} ({d:%b %Y})" for a, d in zip(pollster, date, strict=True)],
            "pollster": pollster.to_numpy(), "date": date.to_numpy(), "stance": stance,
            "estimate": p.to_numpy(dtype=float), "n": n.to_numpy(dtype=float),
            "ci_low": (p - half).clip(lower=0).to_numpy(dtype=float),
            "ci_high": (p + half).clip(upper=1).to_numpy(dtype=float)}))
    if not frames:
        return pd.DataFrame(columns=["poll", "pollster", "date", "stance", "estimate", "n",
                                     "ci_low", "ci_high"])
    return pd.concat(frames, ignore_index=True).sort_values(
        ["date", "stance"], kind="stable").reset_index(drop=True)


def final_shares(series: pd.DataFrame, summary: pd.DataFrame | None,
                 stances: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each stance's final private and expressed share, one value per run.

    From ``summary.parquet`` (``final_share_<s>``, ``final_expressed_share_<s>``) when it
    has them, else from each run's last record in the series (``by == "all"``).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"final_share_A": [0.1, 0.3], "final_expressed_share_A": [0, 0.1]})
    >>> final_shares(pd.DataFrame(), s, ["A"])["A"][0].tolist()
    [0.1, 0.3]
    """
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    last = None
    for st in stances:
        pc, ec = f"final_share_{st}", f"final_expressed_share_{st}"
        if summary is not None and pc in summary.columns:
            priv = summary[pc].to_numpy(dtype=float)
            expr = (summary[ec].to_numpy(dtype=float) if ec in summary.columns else priv)
        else:
            if last is None:
                allrows = series.loc[series["by"].astype(str) == "all"]
                last = (allrows.sort_values(["run", "time"], kind="stable")
                        .groupby(["run", allrows["stance"].astype(str)], observed=True)
                        .last())
            sel = last.xs(st, level=1) if st in last.index.get_level_values(1) else None
            if sel is None:
                continue
            priv = sel["share"].to_numpy(dtype=float)
            expr = sel["expressed_share"].to_numpy(dtype=float)
        out[str(st)] = (priv, expr)
    return out


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    """A Markdown table: the first ``left`` columns (text) left-aligned, numbers right."""
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i < left else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def _bands_at(b: Bands, x0: Any) -> tuple[float, float, float] | None:
    q = b.at(x0)
    if q is None:
        return None
    return float(q[0]), float(q[2]), float(q[4])


def summary_markdown(*, metadata: Mapping[str, Any], series: pd.DataFrame,
                     summary: pd.DataFrame | None, stances: Sequence[str], focus: str,
                     observed: pd.DataFrame | None = None,
                     simulated_polls: pd.DataFrame | None = None,
                     figures: Sequence[str] = (), notes: Sequence[str] = (),
                     name: str | None = None, calibrated: bool = False,
                     whole: str = "the population") -> str:
    """The text of ``summary.md`` (see the module docstring for what it holds).

    ``name`` is the title used when the metadata has no scenario name. ``calibrated``:
    the results folder holds a calibration, so a footnote says that the intervals across
    runs are Monte Carlo noise at one setting of the assumptions, and that the calibration
    section gives the uncertainty from the assumptions. ``whole`` names whose shares the
    percentages are (e.g. "all agents, children included"). Fewer than 20 runs earn a
    warning that the intervals are close to the range of the runs.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"final_share_A": [0.1, 0.2, 0.6],
    ...                   "final_expressed_share_A": [0.1, 0.1, 0.1]})
    >>> md = summary_markdown(metadata={"scenario": {"name": "x"}}, series=pd.DataFrame(),
    ...                       summary=s, stances=["A"], focus="A")
    >>> "| A | 20.0% | 11.0%–56.0% |" in md
    True
    """
    scen = metadata.get("scenario") or {}
    name = scen.get("name") or name or "results"
    lines = [f"# {name}", ""]
    if scen.get("description"):
        lines += [str(scen["description"]), ""]
    model = metadata.get("model") or {}
    runs = metadata.get("runs")
    if runs is None and summary is not None:
        runs = len(summary)
    facts = []
    if model:
        facts.append(f"model: {model.get('title') or model.get('name')}"
                     + (f" (`{model['name']}`)" if model.get("name") else ""))
    if runs is not None:
        facts.append(f"{runs} run{'s' if runs != 1 else ''}")
    if metadata.get("seed") is not None:
        facts.append(f"seed {metadata['seed']}")
    net = metadata.get("network") or {}
    if net.get("n"):
        facts.append(f"network: {net.get('name', '?')}, {int(net['n']):,} agents")
    if facts:
        text = "; ".join(facts)
        lines += [text[0].upper() + text[1:] + ".", ""]
    lines += [f"Focus stance: **{focus}**. Percentages are shares of {whole}; "
              "intervals hold the middle 90% of runs (5th to 95th percentile)."
              + ("¹" if calibrated else ""), ""]
    if calibrated:
        lines += [f"¹ {MONTE_CARLO_FOOTNOTE}", ""]
    warn = small_ensemble_note(int(runs)) if isinstance(runs, int | float) else None
    if warn:
        lines += [f"> **Warning:** {warn[0].upper() + warn[1:]}. With fewer than "
                  f"{MIN_RUNS} runs the 5th and 95th percentiles lie between the two lowest "
                  "and the two highest runs, so one unusual run moves them; the intervals "
                  "below describe these few runs, not the model's run-to-run spread.", ""]

    # -- final shares
    finals = final_shares(series, summary, stances)
    if finals:
        lines += ["## Final shares", ""]
        rows = []
        for st, (priv, expr) in finals.items():
            pm, pi = _interval(priv)
            em, ei = _interval(expr)
            gm, gi = _interval(priv - expr, fmt_pp)
            rows.append([st, pm, pi, em, ei, gm])
        lines += _table(["stance", "private: median", "private: 90% interval",
                         "expressed: median", "expressed: 90% interval",
                         "hidden (private − expressed): median"], rows)
        lines.append("")
        if focus in finals:
            priv, expr = finals[focus]
            gm, gi = _interval(priv - expr, fmt_pp)
            lines += [f"Final hidden share of **{focus}** (held but not voiced): median "
                      f"{gm} (90% interval {gi}).", ""]

    # -- consensus
    if summary is not None and "consensus" in summary.columns and len(summary):
        reached = summary["consensus"].fillna(False).astype(bool)
        r = len(summary)
        text = f"{int(reached.sum())} of {r} runs reached consensus"
        if reached.any() and "consensus_stance" in summary.columns:
            counts = summary.loc[reached, "consensus_stance"].astype(str).value_counts()
            text += " (" + ", ".join(f"{k}: {v}" for k, v in counts.items()) + ")"
            if "consensus_time" in summary.columns:
                t = summary.loc[reached, "consensus_time"].to_numpy(dtype=float)
                if np.isfinite(t).any():
                    text += f", median time {np.nanmedian(t):.1f} sweeps"
        text += "."
        if "absorbed" in summary.columns and summary["absorbed"].fillna(False).any():
            text += (f" {int(summary['absorbed'].fillna(False).astype(bool).sum())} runs "
                     "stopped in a frozen state (nothing could change any more).")
        if "sweeps" in summary.columns:
            sw = summary["sweeps"].to_numpy(dtype=float)
            lo, hi = np.nanmin(sw), np.nanmax(sw)
            text += (f" Every run lasted {lo:g} sweeps." if lo == hi
                     else f" Runs lasted {lo:g}–{hi:g} sweeps.")
        lines += ["## Consensus", "", text, ""]

    # -- observed polls against the simulation
    x = time_column(series) if len(series) else "time"
    if observed is not None and not observed.empty:
        lines += ["## Observed polls against the simulation", ""]
        if x != "date":
            lines += ["The results have no calendar (no `date` column), so observed polls "
                      "cannot be placed on the simulated timeline.", ""]
        else:
            lines += _observed_table(series, observed, simulated_polls)
            lines.append("")

    # -- simulated polls
    if simulated_polls is not None and not simulated_polls.empty:
        lines += _simulated_polls_section(simulated_polls, focus)

    for n in notes:
        lines += [f"> Note: {n}", ""]
    if figures:
        lines += ["## Figures", ""]
        for f in figures:
            lines += [f"![{Path(f).stem}]({f})", ""]
    return "\n".join(lines).rstrip() + "\n"


def _matching_polls(polls: pd.DataFrame | None, stance: str, when: Any) -> np.ndarray | None:
    """Estimates of the simulated direct polls of ``stance`` nearest in time to ``when``
    (within 45 days), one per run, or None."""
    if polls is None or polls.empty or "date" not in polls.columns:
        return None
    p = polls.loc[(polls["stance"].astype(str) == stance)
                  & (polls.get("method", pd.Series("direct", index=polls.index))
                     .astype(str) == "direct")]
    if p.empty:
        return None
    dates = pd.to_datetime(p["date"])
    gap = (dates - pd.Timestamp(when)).abs()
    if gap.min() > pd.Timedelta(days=45):
        return None
    return p.loc[dates == dates[gap.idxmin()], "estimate"].to_numpy(dtype=float)


def _observed_table(series: pd.DataFrame, observed: pd.DataFrame,
                    polls: pd.DataFrame | None = None) -> list[str]:
    allrows = series.loc[series["by"].astype(str) == "all"]
    rows = []
    cache: dict[str, tuple[Bands, Bands]] = {}
    for _, o in observed.iterrows():
        st = str(o["stance"])
        if st not in cache:
            r = allrows.loc[allrows["stance"].astype(str) == st]
            cache[st] = (ensemble_bands(r, "expressed_share", "date"),
                         ensemble_bands(r, "share", "date"))
        eb, pb = cache[st]
        est = float(o["estimate"])
        obs = f"{fmt_pct(est)} ({fmt_pct(o['ci_low'])}–{fmt_pct(o['ci_high'])})"
        e = _bands_at(eb, o["date"])
        p = _bands_at(pb, o["date"])
        date = pd.Timestamp(o["date"]).strftime("%Y-%m-%d")
        n = "–" if not math.isfinite(o["n"]) else f"{int(o['n']):,}"
        if e is None or p is None:
            rows.append([str(o["poll"]), date, st, n, obs, "outside the simulated period",
                         "–", "–", "–"])
            continue
        sim = _matching_polls(polls, st, o["date"])
        if sim is None or len(sim) == 0:
            sim_text, inside = "–", "–"
        else:
            lo, mid, hi = np.quantile(sim, [0.05, 0.5, 0.95])
            sim_text = f"{fmt_pct(mid)} ({fmt_pct(lo)}–{fmt_pct(hi)})"
            inside = "yes" if lo <= est <= hi else "no"
        rows.append([str(o["poll"]), date, st, n, obs, sim_text, inside,
                     f"{fmt_pct(e[1])} ({fmt_pct(e[0])}–{fmt_pct(e[2])})",
                     f"{fmt_pct(p[1])} ({fmt_pct(p[0])}–{fmt_pct(p[2])})"])
    return ["Each observed poll beside the simulated poll of the same design nearest in "
            "time (its estimate: median and 90% range across runs, sampling error "
            "included); \"within\" says whether the observed value falls inside that "
            "range. The last two columns are the true simulated shares of the whole "
            "population on the fieldwork midpoint (median and 90% band across runs). The "
            "observed interval is the 95% binomial sampling interval.", "",
            *_table(["poll", "midpoint", "stance", "n", "observed (95% CI)",
                     "simulated poll", "within", "population: expressed",
                     "population: private"], rows, left=3)]


def _simulated_polls_section(polls: pd.DataFrame, focus: str) -> list[str]:
    p = polls.loc[polls["stance"].astype(str) == focus] if "stance" in polls.columns else polls
    if p.empty:
        return []
    key = "date" if "date" in p.columns and p["date"].notna().all() else "time"
    if key not in p.columns:
        return []
    method = p["method"].astype(str) if "method" in p.columns else pd.Series(
        "direct", index=p.index)
    rows = []
    for (when, m), g in p.groupby([p[key], method], sort=True):
        w = pd.Timestamp(when).strftime("%Y-%m-%d") if key == "date" else f"{when:g}"
        em, ei = _interval(g["estimate"].to_numpy(dtype=float))
        te = (_interval(g["true_expressed"].to_numpy(dtype=float))[0]
              if "true_expressed" in g.columns else "–")
        tp = (_interval(g["true_private"].to_numpy(dtype=float))[0]
              if "true_private" in g.columns else "–")
        rows.append([w, m, str(len(g)), em, ei, te, tp])
    head = "date" if key == "date" else "time (sweeps)"
    return ["## Simulated polls", "",
            f"Polls of **{focus}** drawn from the simulated population (one per run and "
            "poll date): median estimate across runs and its 90% interval, against the "
            "true expressed and private shares at that moment.", "",
            *_table([head, "method", "runs", "estimate: median", "estimate: 90% interval",
                     "true expressed: median", "true private: median"], rows, left=2), ""]


def write_summary(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8); return the path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> write_summary(pathlib.Path(tempfile.mkdtemp()) / "s.md", "# x\\n").read_text()
    '# x\\n'
    """
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return Path(path)
