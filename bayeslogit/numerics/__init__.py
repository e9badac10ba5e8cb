"""Layer 1: links, likelihood families, the design and objective, predictions, priors. NumPy and SciPy only."""
