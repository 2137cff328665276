"""The short fault-injection campaign (the whole one is `make fault`,
docs/fault.md): the harness image of the Cortex-M4 firmware in the unicorn
emulator, every scenario's record refused without a fault, a sample of the
faults of both models classified and none of them granting (the firmware's
hardened decisions, firmware/src/hardened.h), and two planted weaknesses the
campaign must catch. The whole campaign's count is docs/fault.md's.

Nothing here skips: without arm-none-eabi-gcc the build fails with the
install hint (`make test` installs it)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from capstone.arm import ARM_INS_B, ARM_INS_CBNZ, ARM_INS_CBZ, ARM_INS_IT

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench/fault"))

from fault_campaign import (MODELS, Category, Golden, disassemble, flipped,  # noqa: E402
                      run_scenario)
from fault_harness import FIRMWARE_SOURCES, VERIFY_SYMBOL, ImageFacts, Machine  # noqa: E402
from fault_report import GENERATED_MARK, scenario_heading, write_doc  # noqa: E402
from fault_scenarios import SCENARIOS, by_name, prepare  # noqa: E402

FAULT_DIR = ROOT / "build/firmware/fault"
PLANTED_SOURCE = "firmware/port/cortex_m4/fault_planted.c"
# Every SAMPLE-th fault of the scenarios below: one install-license, one
# order and the policy path, about 1,600 runs in all (most of its time is the golden runs).
SAMPLE = 24
SHORT_SCENARIOS = ("license-forged-signature", "resume-forged-while-paused",
                   "policy-short-quorum")


def inverse_condition(cc: int) -> int:
    """capstone numbers the conditions EQ=1, NE=2, ... LE=14 in inverse pairs."""
    return cc + 1 if cc % 2 else cc - 1


@pytest.fixture(scope="module")
def images() -> Path:
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.fail("arm-none-eabi-gcc is missing: tools/install-system-deps.sh installs "
                    "gcc-arm-none-eabi (make test runs it)")
    result = subprocess.run(["make", "--no-print-directory", "-f", "firmware/firmware.mk",
                             f"FW_PYTHON={sys.executable}", "firmware-fault"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return FAULT_DIR


@pytest.fixture(scope="module")
def facts(images: Path) -> ImageFacts:
    return ImageFacts(images / "fault_harness.elf")


@pytest.fixture(scope="module")
def short_campaign(facts: ImageFacts):
    return {name: run_scenario(facts, by_name(name), MODELS, SAMPLE) for name in SHORT_SCENARIOS}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_every_scenario_is_refused_without_a_fault(facts: ImageFacts, scenario) -> None:
    result = run_scenario(facts, scenario, models=())
    assert result.golden.category is Category.REFUSED, result.golden
    assert result.golden.status == scenario.refusal
    assert result.verify_calls >= 1  # the golden run used the real verification


def test_short_campaign_injects_and_classifies_every_fault(facts: ImageFacts,
                                                           short_campaign) -> None:
    for name, result in short_campaign.items():
        for model, tally in result.tallies.items():
            assert tally.runs > 0, (name, model)
            assert sum(tally.counts.values()) == tally.runs
            for fault, outcome in tally.granting:
                assert outcome.effects, (name, model, fault)
                assert facts.in_scope(fault.address)
        runs = [t for t in result.tallies.values()]
        # Faults really happen: some runs end otherwise than the golden one.
        assert any(t.counts[Category.REFUSED] < t.runs for t in runs), name
        print(f"{name}: " + ", ".join(
            f"{m} {t.runs} runs {dict((c.value, n) for c, n in t.counts.items())}"
            for m, t in result.tallies.items()))


def test_no_sampled_fault_grants(short_campaign) -> None:
    """Issue 9 item 7 on today's firmware: no fault of the sample, of either
    model, on the install-license, order or policy path makes the device
    grant (the whole campaign, every fault: `make fault`)."""
    granted = {(name, model): [(f"0x{fault.address:05x}", outcome.effects)
                               for fault, outcome in tally.granting]
               for name, result in short_campaign.items()
               for model, tally in result.tallies.items() if tally.granting}
    assert not granted, granted


def test_fault_space_is_the_firmware_own_code(facts: ImageFacts) -> None:
    machine = Machine(facts)
    golden = Golden(machine, prepare(machine, by_name("license-forged-signature")))
    verify = facts.symbols[VERIFY_SYMBOL] & ~1
    sources = {facts.source_of(e.address).path for e in golden.trace}
    assert sources and all(path.startswith(FIRMWARE_SOURCES) for path in sources), sources
    assert "firmware/src/license.c" in sources and "firmware/src/crypto_port.c" in sources
    assert verify not in {e.address for e in golden.trace}
    assert not facts.in_scope(verify)


def test_a_flip_inverts_the_condition_and_keeps_the_target(facts: ImageFacts) -> None:
    machine = Machine(facts)
    flips = 0
    for name in ("license-horizon-no-party", "resume-operator-key-while-paused"):
        golden = Golden(machine, prepare(machine, by_name(name)))
        for fault in golden.faults("flip"):
            before = disassemble(facts.code_at(fault.address, len(fault.patch)), fault.address)
            after = disassemble(fault.patch, fault.address)
            assert after is not None, fault
            if before.id == ARM_INS_IT:
                # Every instruction of the block takes the other condition:
                # the base condition inverts and the then/else pattern, which
                # is relative to it, stays.
                assert after.id == ARM_INS_IT and after.mnemonic == before.mnemonic
                assert after.cc == inverse_condition(before.cc), (before, after)
            elif before.id in (ARM_INS_CBZ, ARM_INS_CBNZ):
                assert {before.id, after.id} == {ARM_INS_CBZ, ARM_INS_CBNZ}
                assert after.op_str == before.op_str
            else:
                assert before.id == after.id == ARM_INS_B
                assert after.op_str == before.op_str
                assert after.cc == inverse_condition(before.cc), (before, after)
            flips += 1
    assert flips > 10


def test_planted_verdict_ignored_is_granted_without_a_fault(images: Path) -> None:
    """A firmware that ignores the library's verdict accepts the forgery:
    the golden run itself must be counted as granted."""
    mutant = ImageFacts(images / "fault_harness_accept_all.elf")
    result = run_scenario(mutant, by_name("license-forged-signature"), models=())
    assert result.golden.category is Category.GRANTED
    assert "license put in force (running)" in result.golden.effects
    assert "gate opened" in result.golden.effects


def test_planted_one_branch_verdict_is_granted_by_one_fault(images: Path) -> None:
    """A verdict that hinges on one branch: the campaign, faulting only the
    planted verifier, must find the single fault that passes a forgery."""
    mutant = ImageFacts(images / "fault_harness_one_branch.elf", extra_sources=(PLANTED_SOURCE,))
    # Its rows, wherever they lie: its scope range may merge with a neighbouring
    # function's (the link order decides), so it need not start one.
    planted = [address for address in mutant.rows_from(PLANTED_SOURCE) if mutant.in_scope(address)]
    assert planted, "the planted verifier is not in the image's line table"
    result = run_scenario(mutant, by_name("license-forged-signature"), MODELS,
                          keep=lambda f: mutant.source_of(f.address).path == PLANTED_SOURCE)
    assert result.golden.category is Category.REFUSED
    granted = [f for tally in result.tallies.values() for f, _ in tally.granting]
    assert granted, {m: dict(t.counts) for m, t in result.tallies.items()}
    assert all(mutant.source_of(f.address).path == PLANTED_SOURCE for f in granted)


def test_doc_keeps_the_sections_it_did_not_measure(facts: ImageFacts, short_campaign,
                                                   tmp_path: Path) -> None:
    doc = tmp_path / "fault.md"
    kept = [scenario_heading("lift-halt-short-quorum"), "", "numbers from an earlier run", ""]
    doc.write_text("\n".join(["# hand-written", "", GENERATED_MARK, ""] + kept))
    measured = short_campaign["policy-short-quorum"]
    write_doc(facts, [measured], [s.name for s in SCENARIOS], complete=False, seconds=1.0,
              doc=doc)
    text = doc.read_text()
    assert text.startswith("# hand-written\n")
    assert "\n".join(kept) in text
    assert scenario_heading("policy-short-quorum") in text
    assert f"| `policy-short-quorum` | skip | {measured.tallies['skip'].runs} |" in text
    assert text.count(GENERATED_MARK) == 1
