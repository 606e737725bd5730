"""``python -m omnicache_ai``: the same CLI as the ``omnicache`` command."""

import sys

from omnicache_ai.cli import main

sys.exit(main())
