"""What a fit is: its coefficients, predictions, summary table and coefficient labels."""
