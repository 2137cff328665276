"""Telling training from inference: precision and recall per class and per
disguise of the activity classifier (openheg.telemetry), from attested
telemetry of the scenario simulator.

Trains on one seed's fleet of approved activity (a workload of each kind on
each of two chip models, every chip the real firmware, its features from the
differences of its signed daily attestations), then classifies another seed's
fleet, which adds the disguises: training throttled to look like inference
(declared inference) and inference padded to look like training (declared
pre-training). Each chip is classified from all its intervals. Per class:
precision and recall over every held-out chip by what it really runs. Per
disguise: recall (classified as what it really runs) and flagged (classified
as other than its license declares: what the report shows). The trivial
baseline, always the majority class, is measured on the same chips.

A second model is trained on the same training fleet with its disguises
too, staged and labelled with what they really run (a red team of the
authority's own), and evaluated on the same held-out fleet: what learning
the disguises buys.

The table is printed and written into docs/simulate.md (section "Telling
training from inference", between its markers).

Run: .venv/bin/python bench/sim/bench_classifier.py [--chips-per-workload N]
     [--days D] [--train-seed S] [--test-seed T] [--no-doc] [--save-model PATH]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from openheg.telemetry import ActivityClassifier
from openheg_sim.scenario import parse_scenario
from openheg_sim.scenario.engine import simulate
from openheg_sim.scenario.telemetry import (
    evaluate, generated_scenario, labelled_rows, training_set)

DOC = Path(__file__).resolve().parents[2] / "docs" / "simulate.md"
BEGIN = "<!-- classifier results: written by bench/sim/bench_classifier.py; do not edit -->"
END = "<!-- end of classifier results -->"


def table(result: dict) -> str:
    lines = ["| class (what the chip runs) | chips | precision | recall |",
             "|---|---|---|---|"]
    for kind, f in result["classes"].items():
        lines.append(f"| {kind} | {f['chips']} | {f['precision']:.2f} | {f['recall']:.2f} |")
    lines += ["", "| disguise | chips | recall (named what it runs) | flagged (not what its "
              "license declares) |", "|---|---|---|---|"]
    for name, f in result["disguises"].items():
        lines.append(f"| {name} | {f['chips']} | {f['recall']:.2f} | {f['flagged']:.2f} |")
    lines += ["", f"accuracy over every held-out chip {result['accuracy']:.2f}; the majority "
              f"class alone {result['majority_accuracy']:.2f}"]
    return "\n".join(lines)


def write_doc(text: str, doc: Path = DOC, begin: str = BEGIN, end: str = END) -> None:
    """Replace what stands between the markers ``begin`` and ``end`` of ``doc``
    (bench_simulate.py writes its own section with them)."""
    page = doc.read_text()
    head, rest = page.split(begin, 1)
    _, tail = rest.split(end, 1)
    doc.write_text(f"{head}{begin}\n\n{text}\n\n{end}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chips-per-workload", type=int, default=4)
    parser.add_argument("--days", type=int, default=8)
    parser.add_argument("--train-seed", type=int, default=1)
    parser.add_argument("--test-seed", type=int, default=2)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--no-doc", action="store_true", help="print only; leave the docs")
    parser.add_argument("--save-model", type=Path, default=None, metavar="PATH",
                        help="save the red-team model there (for openheg simulate --classifier) "
                             "and print its SHA-256")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-classifier-") as tmp:
        def fleet(seed: int):
            text = generated_scenario(seed, chips_per_workload=args.chips_per_workload,
                                      days=args.days, disguised=True)
            return simulate(parse_scenario(text, f"seed {seed}"), Path(tmp) / str(seed),
                            workers=args.workers)
        training = labelled_rows(fleet(args.train_seed))
        held_out = labelled_rows(fleet(args.test_seed))
    command = (f".venv/bin/python bench/sim/bench_classifier.py --chips-per-workload "
               f"{args.chips_per_workload} --days {args.days} --train-seed {args.train_seed} "
               f"--test-seed {args.test_seed}")
    sections = [f"```\n$ {command}\n```"]
    models = {}
    for red_team, title in ((False, "Trained on approved activity only"),
                            (True, "Trained with the disguises staged by a red team")):
        rows, labels = training_set(training, red_team=red_team)
        models[red_team] = ActivityClassifier.train(rows, labels)
        result = evaluate(models[red_team], held_out)
        sections.append(f"{title} ({len(rows)} intervals of seed {args.train_seed}; "
                        f"{len(held_out)} held-out chips of seed {args.test_seed}):\n\n"
                        + table(result))
    text = "\n\n".join(sections)
    print(f"{time.perf_counter() - started:.0f} s")
    print(text)
    if args.save_model is not None:
        print(f"red-team model saved to {args.save_model}; SHA-256 "
              f"{models[True].save(args.save_model)}")
    if not args.no_doc:
        write_doc(text)
        print(f"written into {DOC}")


if __name__ == "__main__":
    main()
