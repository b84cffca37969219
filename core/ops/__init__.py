"""The op table: every layer type of the spec format, one `OpDef` each.

`OPS` maps type names to their `OpDef`; `LOOKUP` also maps the aliases (`fc`, `deconv`).
"""

from __future__ import annotations

from . import activation, attention, conv, layout, linear, merge, norm, pool, recurrent, reshape
from .registry import OpDef

OPS: dict[str, OpDef] = {}
for _family in (conv, pool, norm, activation, linear, merge, reshape, layout, attention, recurrent):
    OPS.update(_family.OPS)

LOOKUP: dict[str, OpDef] = dict(OPS)
LOOKUP.update({alias: o for o in OPS.values() for alias in o.aliases})
