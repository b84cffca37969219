"""netcalc: inspect neural-network architectures from a plain spec file."""

__version__ = "0.1.0"
