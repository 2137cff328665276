"""What the verifier service's tests share: emulated chips a vendor endorsed,
the service's configuration with a regulator's token, and `openheg verifier
serve` run as a process on a free loopback port, stopped by its pid."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from host_world import make_world

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from postgres_server import free_port  # noqa: E402 - one helper for every test's port

from openheg.board import Proposal, combine, sign_proposal
from openheg.crypto import SigningKey
from openheg.device import Device
from openheg.roles import endorse_device
from openheg.verify import EndorsementList
from openheg.wire import License, LicenseClass
from openheg_sim.emulator import ChipLink, EmulatedChip

TOKEN = "regulator-token-" + "0" * 32
TOKEN_SHA256 = hashlib.sha256(TOKEN.encode()).hexdigest()
AUTH = {"Authorization": f"Bearer {TOKEN}"}
INSPECTOR = SigningKey(b"\x31" * 32)
INSPECTOR_TOKEN = "inspector-token-" + "1" * 32


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """Three provisioned chips and the vendor's endorsement list of the first two
    (the third is endorsed by no vendor the verifier trusts)."""
    folder = tmp_path_factory.mktemp("fleet")
    world = make_world(folder)
    devices = []
    for name in ("chip0", "chip1", "chip2"):
        device = Device(ChipLink(EmulatedChip.open(name, folder)))
        devices.append((device, world.provision(device)))
    listing = EndorsementList()
    for _, device_id in devices[:2]:
        listing.add(endorse_device(world.vendor, device_id))
    listing.save(folder / "endorsements.json")
    (folder / "verifier.toml").write_text(verifier_toml(world, folder / "endorsements.json"))
    return folder, devices, world


def verifier_toml(world, endorsement_list: Path, extra: str = "", *,
                  anchored: bool = False, policy_version: int | None = None) -> str:
    """The configuration: the vendor's key and list, the regulator's token and,
    anchored, the authority (its policy authenticates licenses and draws F(t))."""
    authority = f'authority = "{world.authority.directory}"\n' if anchored else ""
    if policy_version is not None:
        authority += f"policy_version = {policy_version}\n"
    return (f'vendor_keys = ["{world.vendor.public_key.hex()}"]\n'
            f'endorsement_lists = ["{endorsement_list}"]\n' + authority +
            "nonce_lifetime_s = 60\n"
            f'[tokens]\nregulator = ["{TOKEN_SHA256}"]\n' + extra)


def license_naming(device_id: bytes, workload_id: bytes, inspector: bytes) -> License:
    """A Frontier license naming an inspector, signed by a board no authority
    anchors (for a verifier configured without the authority)."""
    draft = License(license_id=os.urandom(16), device_id=device_id, workload_id=workload_id,
                    sequence=1, allocation_msflop=10**12, workload_total_msflop=10**12,
                    lineage_msflop=0, not_before=int(time.time()) - 86_400,
                    not_after=int(time.time()) + 30 * 86_400,
                    license_class=LicenseClass.FRONTIER, oversight_ppm=0,
                    inspector_key=inspector, lineage_digest=bytes(32))
    proposal = Proposal(draft)
    return combine(proposal, [sign_proposal(proposal, SigningKey(b"\x32" * 32))])


@contextlib.contextmanager
def running_verifier(home: Path, *options: str) -> Iterator[str]:
    """`openheg verifier serve` with OPENHEG_HOME=home on 127.0.0.1 and a free
    port, until it answers /healthz; yields its base URL, then interrupts the
    process this started (by its pid) and waits for it to exit."""
    port = free_port()
    env = dict(os.environ, OPENHEG_HOME=str(home))
    server = subprocess.Popen([sys.executable, "-m", "openheg.cli", "verifier", "serve",
                               "--port", str(port), *options], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stdout.read().decode()
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.2)
        yield url
    finally:
        os.kill(server.pid, signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.wait(30)
