"""`python -m newsgen`: the `newsgen` command, for a Python whose scripts folder is not on PATH."""

import sys

from .cli import main

sys.exit(main())
