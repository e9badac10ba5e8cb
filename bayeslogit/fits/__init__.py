"""Layer 3: what a fit holds and derives: point and posterior fits, diagnostics, decision boundaries."""
