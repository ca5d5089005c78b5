"""``steppe explore``: a local web app (Panel) over results folders, sweeps, calibrations
and scenario files.

- a **results folder** (``steppe run``): the share of a stance over time with its ensemble
  bands, one run on its own, by breakdown, the observed polls overlaid, the final shares;
- a **sweep folder** (``steppe sweep``): its points and outcomes, the bands of a point, its
  phase diagrams;
- a **calibration** (``OUT/calibration``): each assumption's posterior over its prior
  range, the posterior predictive checks, the readings' probabilities, the headline shares;
- a **scenario file**: its ``[[assumptions]]`` as sliders; the scenario re-runs live at a
  small scale (1:2000 by default) with the observed polls overlaid.

The server listens on 127.0.0.1 by default, serves every script itself (it works offline)
and opens nothing outside the folder it was opened on (:func:`steppe.explore.paths.inside`).
Panel is imported only by :mod:`steppe.explore.app` and :mod:`steppe.explore.views`
(``pip install 'steppe[explore]'``); :mod:`steppe.explore.paths` and
:mod:`steppe.explore.live` need no web framework.

Examples
--------
>>> from steppe.explore import inside
>>> inside("/tmp", "../etc")
Traceback (most recent call last):
...
steppe.errors.SteppeError: ../etc: outside the folder the explorer was opened on
"""

from __future__ import annotations

from .paths import Source, classify, find_sources, inside, open_path

__all__ = ["Source", "classify", "find_sources", "inside", "open_path"]
