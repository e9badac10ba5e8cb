"""The scikit-learn estimator where users import it from: ``from bayeslogit.sklearn import BayesLogitClassifier``
(defined in :mod:`bayeslogit.surface.estimator`; needs scikit-learn, ``pip install "bayeslogit[sklearn]"``)."""

from bayeslogit.surface.estimator import BayesLogitClassifier

__all__ = ["BayesLogitClassifier"]
