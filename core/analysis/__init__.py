"""Graph -> per-layer results, each pass a walk in topological order."""
