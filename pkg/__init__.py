"""netcalc: inspect neural-network architectures from a plain spec file.

From Python (docs/python-api.md):

    import netcalc
    r = netcalc.analyze("resnet50", input="3x512x512")
    r.totals.params, r.rows[0].shape, r.to_json()

The API is imported on first use of one of its names (PEP 562), so that `import netcalc`,
which the command line does on every run, costs no more than this file.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "analyze", "analyze_text", "Summary", "Row", "Totals", "ReceptiveField", "SpecError",
           "SpecNotFound"]
_API = frozenset(__all__[1:])  # the Python API's names, defined in netcalc.core.python_api

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from .core.python_api import (
        ReceptiveField,
        Row,
        SpecError,
        SpecNotFound,
        Summary,
        Totals,
        analyze,
        analyze_text,
    )
else:  # hidden from type checkers, which see the imports above: `netcalc.nmae` stays an error for them

    def __getattr__(name: str) -> object:
        if name in _API:
            from .core import python_api

            value = getattr(python_api, name)
            globals()[name] = value  # later look-ups find it without this function
            return value
        raise AttributeError(f"module 'netcalc' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})
