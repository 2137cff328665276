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
    the devices in one transaction, then the licenses in one, the orders (a
    few per event) and the attestations in batches, so that a worker's share
    costs a handful of commits rather than a few per chip."""
    ledger = Ledger(ledger_path)
    try:
        ledger.record_devices([(Endorsement.from_bytes(result.endorsement),
                                f"sim://{fleet.chips[result.index].name}") for result in results])
        ledger.record_licenses([License.from_bytes(raw) for result in results
                                for raw in result.licenses])
        for result in results:
            for _, raw in result.orders:  # orders to one device (a site's halt is one per chip)
                ledger.record_order(Order.from_bytes(raw))
        batch: list[tuple[int, bytes]] = []
        for result in results:
            batch += result.attestations
            if len(batch) >= ATTESTATION_BATCH:
                _flush(fleet, ledger, batch)
        _flush(fleet, ledger, batch)
    finally:
        ledger.close()


def _flush(fleet: Fleet, ledger: Ledger, batch: list) -> None:
    by_day: dict[int, list[bytes]] = {}
    for day, raw in batch:
        by_day.setdefault(day, []).append(raw)
    for day, records in sorted(by_day.items()):
        ledger.record_attestations(records, received_at=fleet.day_start(day) + ATTEST_AT_S)
    batch.clear()


def save_vendor_list(fleet: Fleet, results: Sequence) -> None:
    listing = EndorsementList()
    for result in results:
        listing.add(Endorsement.from_bytes(result.endorsement))
    listing.save(endorsement_list_path(fleet.vendor_dir))
