"""One module per command: parse arguments, call netcalc.core.api, render, exit."""
