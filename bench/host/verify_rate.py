"""Attestations verified per second per core, as a ratio to bare PyNaCl verify.

Both loops run in this process, on the same attestations, one after the other
and interleaved over several rounds (the best round of each counts), so the
ratio is measured on the same machine in the same run. The verifier path is
openheg.verify.verify_attestation with the device's endorsement taken from a
vendor list verified once when loaded (as `openheg attest collect` does):
parse, strict signature, nonce, policy version and license binding. The
baseline is bare PyNaCl: one nacl.bindings.crypto_sign_open per attestation
over the same signed bytes (what PyNaCl's VerifyKey.verify calls, less its
argument checks), the least any verifier must do, with the device keys sliced
out before the clock starts. Each loop is timed in this process's CPU time
(time.process_time), not wall time: on a machine shared with other work, the
time the process waits for a core would otherwise count against whichever
loop it fell in. Target: ratio >= 0.95.

Run: .venv/bin/python bench/host/verify_rate.py [--count N] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace

import nacl.bindings

from openheg import wire
from openheg.crypto import SigningKey
from openheg.licensing import DeviceSlot, plan_workload, sign_licenses
from openheg.policy import genesis_draft
from openheg.roles import Role, endorse_device
from openheg.verify import EndorsementList, verify_attestation
from openheg.wire import Attestation, GateCause, GateState, RecordType

TARGET = 0.95


def make_fleet(count: int):
    issuer, vendor = SigningKey.generate(), Role(".", SigningKey.generate())
    policy = genesis_draft(board_keys=[SigningKey.generate().public_key], board_threshold=1,
                           issuer_key=issuer.public_key, time_authority_key=bytes([1]) * 32)
    devices = [SigningKey.generate() for _ in range(min(count, 64))]
    plan = plan_workload(policy, workload="bench", planned_msflop=10**12, lineage_msflop=0,
                         devices=[DeviceSlot(d.public_key, 1) for d in devices])
    licenses = sign_licenses(policy, plan.licenses, [issuer])
    listing = EndorsementList()
    for device in devices:
        listing.add(endorse_device(vendor, device.public_key))
    items = []
    for i in range(count):
        device, license_ = devices[i % len(devices)], licenses[i % len(devices)]
        nonce = os.urandom(32)
        consumed = 1000 * i
        body = Attestation(
            device_id=device.public_key, nonce=nonce, firmware_measurement=bytes(32),
            policy_version=1, license_id=license_.license_id, license_sequence=1,
            lane_ops=(0, i, 0, 0, 0, 0), consumed_msflop=consumed,
            remaining_msflop=max(license_.allocation_msflop - consumed, 0),
            gate_state=GateState.OPEN, gate_causes=GateCause(0), report_counter=i + 1,
            reset_count=1, log_head=os.urandom(32))
        data = replace(body, signature=device.sign_record(RecordType.ATTESTATION,
                                                          body.body())).to_bytes()
        items.append((data, nonce, license_))
    return items, listing, {vendor.public_key}


def bare(items) -> float:
    domain = wire.DOMAINS[RecordType.ATTESTATION]
    device_ids = [data[6:38] for data, _, _ in items]  # outside the timed loop
    start = time.process_time()
    for (data, _, _), key in zip(items, device_ids):
        nacl.bindings.crypto_sign_open(data[-64:] + domain + data[:-64], key)
    return time.process_time() - start


def openheg_path(items, listing, vendor_keys) -> float:
    start = time.process_time()
    for data, nonce, license_ in items:
        endorsement = listing.for_device(data[6:38])
        verify_attestation(data, nonce=nonce, endorsement=endorsement, vendor_keys=vendor_keys,
                           license=license_, policy_version=1, endorsement_checked=True)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    items, listing, vendor_keys = make_fleet(args.count)
    best_bare = best_openheg = float("inf")
    for round_ in range(args.rounds):
        print(f"round {round_ + 1}/{args.rounds}", flush=True)
        best_bare = min(best_bare, bare(items))
        best_openheg = min(best_openheg, openheg_path(items, listing, vendor_keys))
    bare_rate = args.count / best_bare
    rate = args.count / best_openheg
    ratio = rate / bare_rate
    print(f"bare PyNaCl verify:        {bare_rate:10,.0f} /s per core")
    print(f"openheg verify_attestation:{rate:10,.0f} /s per core")
    print(f"ratio: {ratio:.3f} (target >= {TARGET}) {'PASS' if ratio >= TARGET else 'FAIL'}")


if __name__ == "__main__":
    main()
