"""The `netcalc` command. Commands import the core and rich only when they run, and a run
builds only its own command, so that a command costs little more than importing typer."""

from __future__ import annotations

import gc
import importlib
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from . import exit_codes

# Command name -> the module of cli/commands that defines it (as a function of that name),
# in the order `netcalc --help` lists them.
COMMANDS = {
    "shapes": "report", "params": "report", "flops": "report", "summary": "report", "rf": "rf",
    "map": "map", "conv": "conv", "check": "check", "explain": "check", "convert": "convert",
    "import": "convert", "diff": "diff", "export": "export", "graph": "graph", "schema": "schema", "zoo": "zoo",
}


def make_app(names: Iterable[str] = COMMANDS) -> typer.Typer:
    made = typer.Typer(
        name="netcalc",
        help="Inspect a neural-network architecture from a spec file: shapes, parameters, MACs/FLOPs, memory.",
        no_args_is_help=True,
        add_completion=True,  # --install-completion and --show-completion, as typer offers them
        pretty_exceptions_enable=False,
        rich_markup_mode=None,  # plain click help: rich's help renderer alone costs more than typer
    )
    # A callback keeps netcalc a group of subcommands even when it holds a single one.
    made.callback()(_version_option)
    for name in names:
        module = importlib.import_module(f"{__package__}.commands.{COMMANDS[name]}")
        # `import` is a Python keyword: its function is `import_`
        made.command(name=name)(getattr(module, name, None) or getattr(module, f"{name}_"))
    return made


def _show_version(asked: bool) -> None:
    if asked:
        from netcalc import __version__

        typer.echo(f"netcalc {__version__}")
        raise typer.Exit(exit_codes.OK)


def _version_option(
    version: Annotated[bool, typer.Option("--version", "-V", is_eager=True, callback=_show_version,
                                          help="Print netcalc's version and exit.")] = False,
) -> None:
    pass


def __getattr__(name: str) -> typer.Typer:
    # `app`, every command, for tests and tools that drive netcalc in-process; it is built on
    # first use because main() builds only the command it runs.
    if name == "app":
        return make_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    # A run is short and builds one large, acyclic object graph: the cyclic collector would
    # only traverse it again and again (a third of the time on 100,000 layers).
    gc.disable()
    # typer turns every registered function into a click command on each run, which costs a
    # tenth of `summary resnet50`: import and register only the command asked for (all of
    # them for `netcalc --help`, a misspelt command or an option first).
    asked = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] in COMMANDS else None
    with guard():
        (make_app([asked]) if asked else make_app())(prog_name="netcalc")


@contextmanager
def guard() -> Iterator[None]:
    """The one place an unexpected exception ends a run: a message and exit 3, never a
    traceback (NETCALC_DEBUG=1 shows it, for a bug report)."""
    try:
        yield
    except KeyboardInterrupt:
        typer.echo("error: interrupted", err=True)
        sys.exit(exit_codes.INTERRUPTED)
    except BrokenPipeError:
        # the reader stopped early (`netcalc summary big | head`): not an error of ours
        sys.stdout = open(os.devnull, "w")  # Python flushes stdout at exit: let it reach nothing
        sys.exit(exit_codes.OK)
    except Exception as exc:
        if os.environ.get("NETCALC_DEBUG"):
            raise
        if isinstance(exc, OSError):  # the output could not be written (a full disk): not a bug
            sys.stdout = open(os.devnull, "w")
            typer.echo(f"error: cannot write the output: {exc.strerror or exc}", err=True)
            sys.exit(exit_codes.USAGE_OR_INVALID)
        typer.echo(internal_error(exc), err=True)
        sys.exit(exit_codes.INTERNAL)


def internal_error(exc: BaseException) -> str:
    from netcalc import __version__  # a module of constants: it cannot fail in turn

    what = "out of memory" if isinstance(exc, MemoryError) else f"{type(exc).__name__}: {exc}"
    return (f"error: internal error: {what}\n"
            f"This is a bug in netcalc {__version__}, not in your spec. Please report it with the spec and the "
            "command line (NETCALC_DEBUG=1 shows the traceback).")
