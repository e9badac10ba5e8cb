"""The doors a user comes in by: the model, the command line, the report, the scikit-learn estimator and the comparison
table.

Importing the package gives the doors' words for the remedies of the package's messages (:mod:`.advice`) to
:mod:`bayeslogit.exceptions`, so that every message reads as the Python API's words wherever it is raised.
"""

from bayeslogit.surface import advice  # noqa: F401  (gives the doors' words to the messages when imported)
