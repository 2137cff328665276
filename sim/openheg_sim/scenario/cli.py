"""`openheg simulate SCENARIO.toml --out DIR [--workers N] [--dask | --dask-scheduler ADDR]
[--classifier MODEL --classifier-sha256 HEX]`.

Registered with the `openheg` command through the entry-point group
`openheg.commands` (pyproject.toml), so the host library never imports the
simulator. Errors are OpenhegErrors (a ScenarioError for a bad scenario file,
an OutputError for an unusable --out): `openheg` prints them as one line and
exits with EXIT_BAD_INPUT.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import click

from openheg.cli._common import OpenhegCommand, OutputPath


# OpenhegCommand: like every openheg command, a single-valued option given twice is
# refused; -h as under the openheg group, also when the command is run on its own.
@click.command(cls=OpenhegCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("scenario_file", metavar="SCENARIO.toml", type=click.Path(path_type=Path))
@click.option("--out", type=OutputPath(folder=True), required=True,
              help="New or empty folder for the ledger, summary.json and report.md.")
@click.option("--workers", type=click.IntRange(1, 1024), default=None,
              help="Worker processes the chips are split across [default: one per core].")
@click.option("--dask", "use_dask", is_flag=True,
              help="Run the workers on a local Dask cluster (one process each).")
@click.option("--dask-scheduler", metavar="ADDRESS", default=None,
              help="Run them on the Dask cluster at ADDRESS (implies --dask); --out must be "
                   "on storage its workers share.")
@click.option("--classifier", "classifier_file", metavar="MODEL", default=None,
              type=click.Path(path_type=Path),
              help="Your activity classifier's model file (openheg.telemetry; bench/sim/"
                   "bench_classifier.py --save-model): each chip's activity in the summary, "
                   "flagged where it does not match its license.")
@click.option("--classifier-sha256", metavar="HEX", default=None,
              help="The model file's SHA-256, as saving it printed: any other file is refused "
                   "unread (a model file runs code when loaded).")
def simulate(scenario_file: Path, out: Path, workers: int | None, use_dask: bool,
             dask_scheduler: str | None, classifier_file: Path | None,
             classifier_sha256: str | None) -> None:
    """Run a fleet scenario: every chip is the real firmware on a simulated clock.

    Example: openheg simulate examples/board_vote_lowers_f.toml --out out/vote
    """
    from .engine import Progress, simulate as run  # noqa: PLC0415 - keep `openheg` start fast
    from .schema import load_scenario  # noqa: PLC0415

    scenario = load_scenario(scenario_file)
    classifier = None
    if (classifier_file is None) != (classifier_sha256 is None):
        raise click.UsageError("--classifier and --classifier-sha256 go together")
    if classifier_sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", classifier_sha256):
        raise click.BadParameter("give the model file's SHA-256 as 64 hex digits",
                                 param_hint="--classifier-sha256")
    if classifier_file is not None:
        from openheg.telemetry import ActivityClassifier  # noqa: PLC0415

        classifier = ActivityClassifier.load(classifier_file, classifier_sha256)
    workers = (os.cpu_count() or 1) if workers is None else workers
    runner = None
    if use_dask or dask_scheduler:
        from .dask_cluster import dask_runner  # noqa: PLC0415

        def runner(fleet, count):
            return dask_runner(fleet, count, dask_scheduler)
    result = run(scenario, out, workers=workers, progress=Progress(0), runner=runner,
                 classifier=classifier)
    chip_days = result.chip_days
    click.echo(f"{scenario.name}: {len(result.results)} chips x {scenario.days} days in "
               f"{result.seconds:.1f} s ({1000 * result.seconds / max(chip_days, 1):.2f} ms per "
               f"chip-day, {workers} workers)")
    for w in result.summary["workloads"]:
        refused = sum(e["chips"] for e in w["refusals"])
        click.echo(f"  {w['name']}: {w['license_class'].lower()}, metered "
                   f"{w['metered_msflop'] / 1000:.3e} sFLOP of {w['planned_msflop'] / 1000:.3e} "
                   f"planned; {refused} refusals, {len(w['anomalies'])} anomaly days"
                   + (f"; the link cap passed {w['wire_bytes_passed'] / w['wire_bytes_wanted']:.1%}"
                      f" of its {w['wire_bytes_wanted']:.3e} wire bytes"
                      if w["wire_bytes_passed"] < w["wire_bytes_wanted"] else "")
                   + (f"; {w['activity_mismatch_chips']} chips FLAGGED: activity not "
                      f"{w['kind']}" if w["activity_mismatch_chips"] else ""))
    click.echo(f"  ledger, summary.json and {result.report.name} written to {out}")
