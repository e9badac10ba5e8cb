"""``python -m bayeslogit``: the ``bayeslogit`` command (see :mod:`bayeslogit.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
