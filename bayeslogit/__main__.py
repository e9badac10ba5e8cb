"""``python -m bayeslogit``: the ``bayeslogit`` command (see :mod:`bayeslogit.surface.cli`)."""

from bayeslogit.surface.cli import run

if __name__ == "__main__":
    run()
