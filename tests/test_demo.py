"""`make demo` end to end on emulated chips: every step of DESIGN.md's newcomer run."""

from __future__ import annotations

import json

from openheg import demo, wire
from openheg.cli import EXIT_NOT_TRUSTED, EXIT_OK, main
from openheg.transport import open_transport
from operator_link import TamperingLink, rewrite_newest_entry


def test_demo_runs_every_step_and_writes_a_trusted_report(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--chips", "3"]) == EXIT_OK
    printed = capsys.readouterr().out
    for step in range(1, 10):
        assert f"[{step}/9]" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["skipped"] == []
    assert summary["license_class"] == "FRONTIER" and summary["trusted"]
    chip0 = summary["chip0"]
    assert chip0["gate_state"] == "CLOSED" and chip0["gate_causes"] == ["EXHAUSTED"]
    # Spent up to its allocation less the share the device holds back for
    # oversight (the genesis policy's 1 % minimum, until the inspector releases it).
    held_back = wire.oversight_reserve_msflop(chip0["allocation_msflop"], 10_000)
    assert chip0["consumed_msflop"] >= chip0["allocation_msflop"] - held_back
    assert "0 of 10,000,000 ops got through" in printed
    report = out / "report"
    assert (report / "report-demo-finetune.png").read_bytes()[:4] == b"\x89PNG"
    assert "Frontier" in (report / "report-demo-finetune.md").read_text()
    # A second run replaces the first; a directory it did not make is left alone.
    assert main(["demo", "--out", str(out), "--chips", "1"]) == EXIT_OK
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("x")
    assert main(["demo", "--out", str(tmp_path / "mine")]) != EXIT_OK
    assert (tmp_path / "mine" / "keep.txt").exists()


def test_a_demo_whose_evidence_does_not_hold_exits_1(tmp_path, capsys, monkeypatch):
    """The operator rewrites the newest event-log entry on each chip's link: the
    series check finds the fork, and the demo must not report success."""
    monkeypatch.setattr(demo, "open_transport", lambda url, home: TamperingLink(
        open_transport(url, home), rewrite_newest_entry))
    assert main(["demo", "--out", str(tmp_path / "demo"), "--chips", "1"]) == EXIT_NOT_TRUSTED
    captured = capsys.readouterr()
    assert "report NOT trusted" in captured.out
    assert "NOT TRUSTED" in captured.err and "not on the device's event-log chain" in captured.err
