"""Layer 1: links, likelihoods and priors. NumPy and SciPy only."""
