"""A griffe extension for the documentation site: steppe's docstrings cross-reference with
Sphinx roles (``:func:`run```, ``:class:`~steppe.models.base.Model```), which Markdown would
print as they are. This turns each into inline code (``run``, ``Model``: a leading ``~``
keeps the last name only), before the docstrings are parsed; the source is not changed.

Examples
--------
>>> plain(":class:`~steppe.models.base.Model` and :func:`steppe.run`")
'`Model` and `steppe.run`'
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|meth|class|mod|attr|data|exc|obj|const|term):`([^`]+)`")


def _target(match: re.Match[str]) -> str:
    text = match[1].strip()
    if text.startswith("~"):
        text = text[1:].rsplit(".", 1)[-1]
    return f"`{text}`"


def plain(text: str) -> str:
    """``text`` with every Sphinx role turned into inline code."""
    return _ROLE.sub(_target, text)


def _walk(obj: Any, seen: set[int]) -> None:
    if id(obj) in seen or obj.is_alias:
        return
    seen.add(id(obj))
    if obj.docstring is not None:
        obj.docstring.value = plain(obj.docstring.value)
    for member in obj.members.values():
        if not member.is_alias:
            _walk(member, seen)


class SphinxRoles(griffe.Extension):
    """Rewrite the roles of every docstring of a package once it is loaded."""

    def on_package(self, *, pkg: Any, **kwargs: Any) -> None:
        _walk(pkg, set())
