"""`check` and `explain`: netcalc as a guard on architecture files in CI."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from .. import exit_codes
from ..options import AllowUnknown, Inputs
from ..render import names
from ._report import fail

Budget = Annotated[str | None, typer.Option(help="A budget that overrides the spec's check section.")]


def check(
    paths: Annotated[list[str], typer.Argument(help="Spec files, folders or globs.")],
    max_params: Budget = None,
    max_macs: Budget = None,
    max_flops: Budget = None,
    max_activation_bytes: Budget = None,
    max_train_memory: Budget = None,
    min_rf: Budget = None,
    expect_output: Annotated[str | None, typer.Option(help="The output shape expected, like 1000.")] = None,
    strict: Annotated[bool, typer.Option(help="Warnings fail too (exit 1).")] = False,
    input: Inputs = None,
    allow_unknown: AllowUnknown = False,
    format: Annotated[
        str,
        typer.Option(
            "--format", "-f", help=f"{', '.join(names('findings'))} or auto (github under GitHub Actions)."
        ),
    ] = "plain",
) -> None:
    """Validate specs, enforce their budgets and run the lint rules; exit 1 on findings.

    Example: netcalc check specs/ --max-params 30M --strict
    """
    from pathlib import Path

    from netcalc.core.api import SpecNotFound, check_limits, spec_files
    from netcalc.core.config import ConfigError, find_config

    from ..render import problem, renderer
    from ..render.diagnostics import emit, outcome

    if format == "auto":
        format = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "plain"
    if problem("findings", format):
        fail(f"unknown format '{format}' ({', '.join(names('findings'))} or auto)")
    options = {"max_params": max_params, "max_macs": max_macs, "max_flops": max_flops,
               "max_activation_bytes": max_activation_bytes, "max_train_memory": max_train_memory, "min_rf": min_rf,
               "output": expect_output}
    try:
        limits, config = check_limits(options), find_config(Path.cwd())
        findings = [_check_one(spec, limits, config, input or (), allow_unknown) for spec in spec_files(paths)]
    except ConfigError as exc:
        emit([exc.diagnostic], sys.stderr)
        raise typer.Exit(exit_codes.USAGE_OR_INVALID) from None
    except (ValueError, SpecNotFound) as exc:
        fail(str(exc))
    # `human` styles only for a terminal (as rich decides, FORCE_COLOR included): echo must
    # not strip what it chose
    typer.echo(renderer("findings", format)(findings), nl=False, color=True if format == "human" else None)
    crashed = any(d.id == INTERNAL_ERROR for _, _, found in findings for d in found)
    raise typer.Exit(exit_codes.INTERNAL if crashed else outcome(findings, strict))


INTERNAL_ERROR = "internal-error"


def _check_one(spec: str, limits: Any, config: Any, inputs: Sequence[str],
               allow_unknown: bool) -> tuple[str, bool, list[Any]]:
    """(spec, valid, findings). A bug that one file triggers is that file's finding, and
    every other file is still checked: CI must see all of them."""
    from netcalc.core.api import SpecNotFound
    from netcalc.core.api import check as check_spec
    from netcalc.core.diagnostics import Span, error

    from ..app import internal_error

    try:
        report, found = check_spec(spec, limits, config, inputs, allow_unknown)
    except SpecNotFound:
        raise
    except Exception as exc:  # noqa: BLE001 - reported as a finding, and the run exits 3
        if os.environ.get("NETCALC_DEBUG"):
            raise
        return spec, False, [error(INTERNAL_ERROR, internal_error(exc).removeprefix("error: ").replace("\n", " "),
                                   Span(spec, 1, 1))]
    return spec, report.ok, found


def explain(rule: Annotated[str | None, typer.Argument(help="A rule id, like stride-drops-input.")] = None) -> None:
    """What a check rule finds, with a failing and a passing example; without an id, the list.

    Example: netcalc explain stride-drops-input
    """
    from netcalc.core.diagnostics import did_you_mean
    from netcalc.core.ids import IDS, RULES

    if rule is None:
        for rule_id, known in RULES.items():
            typer.echo(f"{rule_id:26} {known.severity:8} {known.summary}")
        raise typer.Exit(exit_codes.OK)
    if rule not in IDS:
        hint = did_you_mean(rule, list(IDS))
        fail(f"no diagnostic '{rule}'" + (f"; {hint}" if hint else "") + " (netcalc explain lists the rules)")
    known = IDS[rule]
    text = known.doc.strip() if known.is_rule else f"{rule}: {known.summary}."
    typer.echo(f"{text}\n\nDefault severity: {known.severity}")
