"""``python -m bayeslogit``: the ``bayeslogit`` command (see :mod:`bayeslogit.surface.cli`)."""

import sys

from bayeslogit.surface.cli import main

if __name__ == "__main__":
    sys.exit(main())
