"""The lowest layer: links, likelihood families, the design and objective, predictions, priors, row blocks and BLAS
threads. NumPy and SciPy only."""
