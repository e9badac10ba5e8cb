"""A fit on disk: NetCDF or zarr, as plain data that nothing evaluates on load."""
