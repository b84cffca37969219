"""`zoo`: the built-in specs."""

from __future__ import annotations


def zoo() -> None:
    """List the built-in specs, usable by name in every command.

    Example: netcalc zoo, then netcalc summary resnet50
    """
    from netcalc.core.api import builtin_specs

    from ..render.formats import zoo_table

    zoo_table(builtin_specs())
