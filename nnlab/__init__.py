"""nnlab: reproducible neural-network training studies in seeded NumPy."""

__version__ = "0.1.0"
