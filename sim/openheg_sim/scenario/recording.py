"""What the verifier keeps of a run, in the ledger, as it would record it.

The engine records the workloads before any chip runs; each worker then
records its own chips (devices, licenses, orders and verified attestations,
at the simulated times they arrived) when its shard is done, so that the
records are decoded and written in parallel (the SQLite ledger takes one
writer at a time and makes the others wait; PostgreSQL the same). The
vendor's endorsement list is written once, by the engine, from every chip.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openheg.authority import endorsement_list_path
from openheg.ledger import Ledger
from openheg.licensing import workload_id_for
from openheg.verify import EndorsementList
from openheg.wire import Endorsement, License, Order

from .fleet import ATTEST_AT_S, Fleet

ATTESTATION_BATCH = 5000


def record_workloads(fleet: Fleet, ledger: Ledger) -> None:
    for workload in fleet.workloads:
        ledger.record_workload(workload.name, workload_id_for(workload.name),
                               workload.planned_msflop, workload.lineage_msflop,
                               workload.license_class)


def record_chips(fleet: Fleet, results: Sequence, ledger_path: Path) -> None:
    """Devices, licenses, orders and attestations of ``results`` (ChipResults):
    the devices in one transaction, the licenses in one, the orders in one and
    the attestations in batches, so that a worker's share costs a few dozen
    commits rather than a few per chip (each commit waits for the disk)."""
    ledger = Ledger(ledger_path)
    try:
        ledger.record_devices([(Endorsement.from_bytes(result.endorsement),
                                f"sim://{fleet.chips[result.index].name}") for result in results])
        ledger.record_licenses([License.from_bytes(raw) for result in results
                                for raw in result.licenses])
        # Orders to one device each (a site's halt is one per chip).
        ledger.record_orders([(Order.from_bytes(raw), None) for result in results
                              for _, raw in result.orders])
        # By the day they arrived (record_attestations stamps one time per
        # call), in transactions of ATTESTATION_BATCH: a worker's share is a few
        # dozen commits.
        by_day: dict[int, list[bytes]] = {}
        for result in results:
            for day, raw in result.attestations:
                by_day.setdefault(day, []).append(raw)
        for day, records in sorted(by_day.items()):
            received_at = fleet.day_start(day) + ATTEST_AT_S
            for start in range(0, len(records), ATTESTATION_BATCH):
                ledger.record_attestations(records[start:start + ATTESTATION_BATCH],
                                           received_at=received_at)
    finally:
        ledger.close()


def save_vendor_list(fleet: Fleet, results: Sequence) -> None:
    listing = EndorsementList()
    for result in results:
        listing.add(Endorsement.from_bytes(result.endorsement))
    listing.save(endorsement_list_path(fleet.vendor_dir))
