"""Steepest descent against Newton's method, step by step, on the wells data's log-likelihood.

Both optimisers start from zero coefficients and minimise the same objective: the negative log-likelihood
of ``switched ~ dist100 + arsenic`` (or, with ``--sigma``, the negative log posterior under that prior).
Newton's method uses the curvature and converges in a handful of steps; steepest descent follows the
gradient alone and needs dozens of times more. The script prints how many steps each took, whether it met
its convergence criterion, and after how many steps each came within ``--within`` of the minimum, and writes
``optimization.gif``: the decision boundary moving and the objective falling, the optimisers side by side.

Run: ``python examples/optimization.py [--max-iter 1000 --frames 40 --out DIR]``; without ``--out`` the
animation goes to a new temporary folder, named at the end. No sampling happens here, so unlike the other
examples this one has no ``--draws``, ``--chains`` or ``--seed``: both optimisers are deterministic.
"""

import numpy as np
import pandas as pd

import bayeslogit as bl

from _common import example_parser, output_folder


def steps_to_reach(objectives: np.ndarray, floor: float, within: float) -> int | None:
    """The first step at which ``objectives`` is within ``within`` of ``floor`` (None when it never is)."""
    close = np.flatnonzero(objectives - floor <= within)
    return int(close[0]) if close.size else None


def main(argv=None):
    parser = example_parser(__doc__, sampling=False, dpi=100)
    parser.add_argument("--formula", default="switched ~ dist100 + arsenic")
    parser.add_argument("--sigma", type=float, default=None, help="prior sd of the slopes (default: ML)")
    parser.add_argument("--max-iter", type=int, default=1000, help="step limit of each optimiser")
    parser.add_argument("--within", type=float, default=1e-6, help="distance to the minimum counted as reached")
    parser.add_argument("--frames", type=int, default=40, help="frames of the animation at most")
    args = parser.parse_args(argv)

    model = bl.LogisticModel.from_formula(args.formula, bl.datasets.load_wells())
    prior = None if args.sigma is None else bl.Normal(args.sigma)
    folder = output_folder(args.out, "optimization")
    animation = bl.animate_optimization(
        model,
        path=folder / "optimization.gif",
        prior=prior,
        max_iter=args.max_iter,
        max_frames=args.frames,
        dpi=args.dpi,
    )
    print(f"{model}\nobjective: negative log-{'posterior under ' + str(prior) if prior else 'likelihood'}\n")

    floor = min(result.value for result in animation.results.values())
    rows = {}
    for method, result in animation.results.items():
        objectives = np.array([iteration.objective for iteration in result.iterations])
        rows[method] = {
            "steps": result.n_iter,
            "converged": result.converged,
            f"steps to within {args.within:g}": steps_to_reach(objectives, floor, args.within),
            "objective - minimum": result.value - floor,
            "max |gradient|": result.iterations[-1].grad_norm,
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    print(table.to_string(na_rep="never", float_format="{:.3g}".format))
    for method, message in animation.messages.items():
        if message:
            print(f"\n{method}: {message}")
    print(f"\nanimation in {folder}: optimization.gif ({len(animation.frames)} frames)")


if __name__ == "__main__":
    main()
