"""``python -m tumbler``."""

from __future__ import annotations

import sys

from tumbler.cli import main

sys.exit(main())
