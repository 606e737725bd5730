"""Griffe extension for the docs build: read a Google-style ``Example:`` heading as ``Examples:``.

Our docstrings say ``Example:`` (singular, as STYLE.md asks); griffe's Google parser reads
only ``Examples:`` as an examples section and would render the ``>>>`` lines as prose.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_HEADING = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)


class SingularExamples(griffe.Extension):
    """Rename the singular heading on every loaded object with a docstring."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _HEADING.sub(r"\1Examples:", obj.docstring.value)
