"""The second layer, above numerics: optimisers, separation and rank checks, Laplace, and the samplers' and dask's
back ends."""
