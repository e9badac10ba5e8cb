"""The doors a user comes in by: the model, the command line, the report, the scikit-learn estimator and the comparison
table."""
