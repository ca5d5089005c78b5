"""What a figure shows that the scenario sets rather than the model produces, and whose
share a figure shows (everyone, or the adults the polls interview).

A run starts from the shares its scenario sets (``initial``: the "true March share" of the
flagship is an assumption with a range), each border flow brings people whose views the
scenario sets, and each event of the timeline sets a parameter on a date. Drawn beside
results, these inputs look like findings; the figures mark them (a ring on the first
point, a line under the title, "a scenario input" in the events' key).

Examples
--------
>>> meta = {"scenario": {"initial": {"shares": {"A": 0.3}}, "assumptions": [
...     {"name": "true share of A", "path": "initial.shares.A", "low": 0.1, "high": 0.5}]}}
>>> start_input(meta, "A")
'start: set by the scenario (assumption: true share of A, 10%\u201350%), not a result'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["adult_levels", "breakdown_inputs", "poll_frame_ages", "start_input"]

_LOWER = re.compile(r"^\s*(\d+)")
#: the youngest age counted as adult when no poll names its frame
ADULT_AGE = 18


def _scenario(metadata: Mapping[str, Any]) -> Mapping[str, Any]:
    return metadata.get("scenario") or {}


def _assumption(metadata: Mapping[str, Any], prefix: str) -> Mapping[str, Any] | None:
    for a in _scenario(metadata).get("assumptions") or []:
        path = str(a.get("path") or "")
        if path == prefix or path.startswith(prefix + "."):
            return a
    return None


def _range(a: Mapping[str, Any], pct: bool) -> str:
    lo, hi = a.get("low"), a.get("high")
    if not isinstance(lo, int | float) or not isinstance(hi, int | float):
        return ""
    if pct and 0 <= lo <= 1 and 0 <= hi <= 1:
        return f", {100 * lo:g}%\u2013{100 * hi:g}%"
    return f", {lo:g}\u2013{hi:g}"


def start_input(metadata: Mapping[str, Any], stance: str) -> str | None:
    """The legend text of the ring on a share's first point: the starting share is set by
    the scenario, an assumption when the scenario declares one for it.

    Parameters
    ----------
    metadata
        ``metadata.json`` of the results folder.
    stance
        The stance plotted.

    Returns
    -------
    str or None
        ``None`` when the metadata holds no scenario (nothing is known about the inputs).

    Examples
    --------
    >>> start_input({}, "A") is None
    True
    >>> start_input({"scenario": {"name": "x"}}, "A")
    'start: set by the scenario (initial state), not a result'
    """
    if not _scenario(metadata):
        return None
    a = _assumption(metadata, f"initial.shares.{stance}")
    if a is not None:
        return (f"start: set by the scenario (assumption: {a.get('name')}"
                f"{_range(a, True)}), not a result")
    return "start: set by the scenario (initial state), not a result"


def breakdown_inputs(metadata: Mapping[str, Any], attribute: str) -> list[str]:
    """Lines for a breakdown figure's title saying which of its values are inputs.

    Parameters
    ----------
    metadata
        ``metadata.json`` of the results folder.
    attribute
        The breakdown (``group``, ``age``, ``origin``, ...).

    Returns
    -------
    list of str

    Examples
    --------
    >>> breakdown_inputs({"scenario": {"initial": {"odds": {"age": {"60+": {}}}}}}, "age")
    ['starting shares by age: set by the scenario (assumed odds ratios), not results']
    """
    sc = _scenario(metadata)
    if not sc:
        return []
    init = sc.get("initial") or {}
    out = []
    if attribute in (init.get("odds") or {}) or init.get(f"by_{attribute}"):
        out.append(f"starting shares by {attribute}: set by the scenario (assumed odds "
                   "ratios), not results")
    else:
        out.append("starting shares: set by the scenario, not results")
    if attribute == "origin" and any(f.get("initial") for f in sc.get("flows") or []):
        out.append("arrivals' views on arrival: set by the scenario (each flow's stance "
                   "mix, an assumption), not results")
    return out


def poll_frame_ages(metadata: Mapping[str, Any]) -> list[str]:
    """The age bands the scenario's polls interview (the union of their ``frame.age``).

    Parameters
    ----------
    metadata
        ``metadata.json`` of the results folder.

    Returns
    -------
    list of str
        In the order the polls name them; empty when no poll has an age frame.

    Examples
    --------
    >>> poll_frame_ages({"scenario": {"polls": [{"frame": {"age": ["18-29", "60+"]}},
    ...                                         {"frame": {"age": ["30-59"]}}]}})
    ['18-29', '60+', '30-59']
    """
    ages: dict[str, None] = {}
    for p in _scenario(metadata).get("polls") or []:
        for a in (p.get("frame") or {}).get("age") or []:
            ages[str(a)] = None
    return list(ages)


def adult_levels(metadata: Mapping[str, Any], levels: Sequence[str]) -> list[str]:
    """The age bands among ``levels`` that count as adults: those the scenario's polls
    interview, else those starting at :data:`ADULT_AGE` or older.

    Parameters
    ----------
    metadata
        ``metadata.json`` of the results folder.
    levels
        The series' age bands.

    Returns
    -------
    list of str

    Examples
    --------
    >>> adult_levels({}, ["0-17", "18-29", "60+"])
    ['18-29', '60+']
    """
    framed = poll_frame_ages(metadata)
    if framed:
        return [lv for lv in levels if lv in framed]
    out = []
    for lv in levels:
        m = _LOWER.match(str(lv))
        if m and int(m.group(1)) >= ADULT_AGE:
            out.append(str(lv))
    return out
