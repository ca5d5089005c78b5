"""Compile (or load from Numba's cache) the kernels the suite uses, before the tests start:
every scenario in ``scenarios/`` at the regression baseline's small size, one run each.

``tests/conftest.py`` runs it in two processes (the flagship's family in one, the other
scenarios in the other: each compiles its own kernels) when the suite
runs on several workers, so that the workers and the command-line processes the tests start
find the compiled kernels on disk instead of each compiling them again (on a fresh clone,
measured: the flagship's first small run takes 26 s cold and 2 s warm).

    python tests/_warm.py 0 2    # the flagship's family (1: the others)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(part: int, parts: int) -> None:
    import steppe
    from tests.regression.record import SMALL

    names = sorted(SMALL, key=lambda n: (not n.startswith("kazakhstan"), n))
    names = [n for n in names if n.startswith("kazakhstan") == (part == 0)] if parts == 2 \
        else names[part::parts]
    for name in names:
        steppe.run(ROOT / "scenarios" / f"{name}.toml",
                   overrides={**SMALL[name], "runs": 1}, workers=1)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
