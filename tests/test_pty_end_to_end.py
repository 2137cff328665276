"""End to end over a pty to the real C firmware server (firmware/port/posix),
through the `openheg` CLI: provision, time, license, attest, event log, series."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from openheg.cli import EXIT_DEVICE_REFUSED, EXIT_OK, main
from openheg_sim.pty_device import SERVER, PtyDevice

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def server_binary():
    # Incremental: a no-op when the server is already built from these sources.
    subprocess.run(["make", "-s", "firmware-posix"], cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    return SERVER


@pytest.fixture
def device_on_pty(server_binary, tmp_path):
    device = PtyDevice(tmp_path / "dev.flash", server=server_binary)
    yield device.path
    assert device.stop() == 0  # orderly shutdown on SIGTERM


def test_cli_over_the_pty_to_the_c_firmware_server(device_on_pty, tmp_path, monkeypatch,
                                                    capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENHEG_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("OPENHEG_TIME_FROM", raising=False)
    url = device_on_pty

    def run(*args):
        code = main(["--timeout", "3", *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    def ok(*args):
        code, out, err = run(*args)
        assert code == EXIT_OK, err
        return out

    ok("authority", "create", "auth")
    ok("vendor", "create", "vendor")
    ok("device", "provision", url, "--authority", "auth", "--vendor", "vendor")
    ok("authority", "beacon", url, "--authority", "auth")
    ok("license", "issue", "--authority", "auth", "--device", url, "--workload", "w",
       "--planned", "1e6", "--out", "lic.bin")
    ok("license", "install", url, "lic.bin")
    code, _, err = run("license", "install", url, "lic.bin")
    assert code == EXIT_DEVICE_REFUSED and "REPLAYED" in err
    for _ in range(2):
        ok("attest", "collect", url, "--endorsements", "vendor/endorsements.json",
           "--vendor-key", "vendor/vendor.key.pub", "--policy-version", "1")
    log = json.loads(ok("device", "log", url, "--json"))
    types = [e["event_type"] for e in log["entries"]]
    # reset, genesis policy, provisioned, time set, license installed
    assert types[0] == 0x01 and {0x02, 0x03, 0x05, 0x08} <= set(types)
    series = json.loads(ok("attest", "series", "--json"))
    assert series["trusted"] and series["devices"] == 1 and not [
        a for a in series["anomalies"] if a["severe"]]
