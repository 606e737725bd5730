"""Griffe extension for the docs build: our docstrings, read as mkdocstrings expects them.

* A Google-style ``Example:`` heading is read as ``Examples:``: our docstrings say
  ``Example:`` (singular, as STYLE.md asks), and griffe's Google parser reads only
  ``Examples:`` as an examples section (it would render the ``>>>`` lines as prose).
* Sphinx roles (``:class:`CacheManager```) become inline code: Markdown has no roles.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_HEADING = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)
_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):`~?([^`]+)`")


class SingularExamples(griffe.Extension):
    """Rewrite every loaded docstring as described in the module docstring."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            text = _HEADING.sub(r"\1Examples:", obj.docstring.value)
            obj.docstring.value = _ROLE.sub(r"`\1`", text)
