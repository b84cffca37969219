"""netcalc's pure library: spec parsing, the IR, the op table and the analyses.

Depends on PyYAML only and never imports the command-line layer (typer, rich).
"""
