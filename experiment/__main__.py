"""`python -m experiment`: see run/cli.py."""

import sys

from .run.cli import main

sys.exit(main())
