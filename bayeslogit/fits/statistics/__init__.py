"""What follows from a fit's estimates: intervals, odds ratios, decision boundaries and likelihood statistics."""
