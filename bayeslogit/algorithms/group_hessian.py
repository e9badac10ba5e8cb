"""Central finite differences of a smooth function of a few parameters: its gradient and its Hessian.

The Hessian follows lme4's ``deriv12``: second differences of the values, ``delta`` apart.
"""

from collections.abc import Callable

import numpy as np


def fd_gradient(fun: Callable[[np.ndarray], float], x: np.ndarray, delta: float = 1e-5) -> np.ndarray:
    """The central-difference gradient (d,) of ``fun`` at ``x`` (d,), steps ``delta * max(1, |x_j|)``."""
    grad = np.empty(len(x))
    for j in range(len(x)):
        step = np.zeros(len(x))
        step[j] = delta * max(1.0, abs(x[j]))
        grad[j] = (fun(x + step) - fun(x - step)) / (2.0 * step[j])
    return grad


def fd_hessian(fun: Callable[[np.ndarray], float], x: np.ndarray, delta: float = 1e-4) -> np.ndarray:
    """The central-difference Hessian (d, d) of ``fun`` at ``x`` (d,), steps ``delta`` in each coordinate."""
    d, f0 = len(x), fun(x)
    eye = delta * np.eye(d)
    plus = np.array([fun(x + e) for e in eye])
    minus = np.array([fun(x - e) for e in eye])
    H = np.diag((plus - 2.0 * f0 + minus) / delta**2)
    for j in range(d):
        for k in range(j):
            H[j, k] = H[k, j] = (
                fun(x + eye[j] + eye[k])
                - fun(x + eye[j] - eye[k])
                - fun(x - eye[j] + eye[k])
                + fun(x - eye[j] - eye[k])
            ) / (4.0 * delta**2)
    return H


def fd_jacobian(fun: Callable[[np.ndarray], np.ndarray], x: np.ndarray, delta: float = 1e-4) -> np.ndarray:
    """The central-difference Jacobian (m, d) of ``fun`` (d,) -> (m,) at ``x``, steps ``delta`` in each coordinate."""
    eye = delta * np.eye(len(x))
    return np.stack([(fun(x + e) - fun(x - e)) / (2.0 * delta) for e in eye], axis=1)
