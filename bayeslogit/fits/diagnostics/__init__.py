"""Checks of a fit: convergence, PSIS-LOO, what the prior implies and how much it matters."""
