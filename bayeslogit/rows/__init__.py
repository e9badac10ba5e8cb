"""The rows of a model: validated in memory, chunked out of core (dask), or absent (a saved fit); formulas and their
names."""
