"""Layer 2: optimisers, separation detection, Laplace and the samplers' back ends."""
