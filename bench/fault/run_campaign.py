"""`make fault`: the whole fault-injection campaign on the Cortex-M4 harness
image. Prints the table (scenario x fault model) and every fault that
granted, progress on stderr, and writes docs/fault.md's numbers.

    .venv/bin/python bench/fault/run_campaign.py                 # all (make fault)
    .venv/bin/python bench/fault/run_campaign.py --scenario NAME  # one, after a change
    .venv/bin/python bench/fault/run_campaign.py --jobs 2         # all, two scenarios at a time

A run limited to some scenarios rewrites only their sections of the page; a
run with --sample or another --image writes nothing there."""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fault_campaign import MODELS, Category, run_scenario  # noqa: E402
from fault_harness import ROOT, ImageFacts  # noqa: E402
from fault_report import report_text, write_doc  # noqa: E402
from fault_scenarios import SCENARIOS, by_name  # noqa: E402

IMAGE = ROOT / "build/firmware/fault/fault_harness.elf"


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_one(job: tuple[Path, str, tuple[str, ...], int]):
    """One scenario in a worker process (--jobs): its own emulator and image."""
    image, name, models, sample = job
    return run_scenario(ImageFacts(image), by_name(name), models, sample, progress=progress)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", type=Path, default=IMAGE,
                        help="harness ELF (default: the one `make firmware-fault` builds)")
    parser.add_argument("--scenario", action="append", choices=[s.name for s in SCENARIOS],
                        help="run only this scenario (repeatable)")
    parser.add_argument("--model", action="append", choices=MODELS,
                        help="run only this fault model (repeatable)")
    parser.add_argument("--sample", type=int, default=1,
                        help="run every N-th fault only (a quick look; writes no numbers)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="run this many scenarios at a time, each in its own process "
                             "(the same numbers in less wall-clock time)")
    args = parser.parse_args(argv)
    if args.sample < 1:
        parser.error("--sample must be 1 or more")
    if args.jobs < 1:
        parser.error("--jobs must be 1 or more")

    facts = ImageFacts(args.image)
    scenarios = [by_name(n) for n in args.scenario] if args.scenario else list(SCENARIOS)
    models = tuple(args.model) if args.model else MODELS
    started = time.monotonic()
    if args.jobs == 1:
        results = [run_scenario(facts, s, models, args.sample, progress=progress)
                   for s in scenarios]
    else:
        # Taken in the order given, reported in SCENARIOS' order.
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            results = pool.map(run_one, [(args.image, s.name, models, args.sample)
                                         for s in scenarios], chunksize=1)
        order = [s.name for s in SCENARIOS]
        results.sort(key=lambda r: order.index(r.scenario.name))
    for result in results:
        if result.golden.category is not Category.REFUSED:
            print(f"{result.scenario.name}: WITHOUT A FAULT the record was "
                  f"{result.golden.category.value} "
                  f"({', '.join(result.golden.effects) or 'no effects'})", file=sys.stderr)
    seconds = time.monotonic() - started
    print(report_text(facts, results))
    print(f"{sum(t.runs for r in results for t in r.tallies.values())} runs in {seconds:.0f} s",
          file=sys.stderr)
    if args.sample == 1 and args.image.resolve() == IMAGE.resolve():
        complete = len(scenarios) == len(SCENARIOS) and models == MODELS
        doc = write_doc(facts, results if models == MODELS else [], [s.name for s in SCENARIOS],
                        complete, seconds, jobs=args.jobs)
        print(f"wrote {doc.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
