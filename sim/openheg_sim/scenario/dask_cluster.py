"""The chips of a scenario on a Dask cluster instead of local processes.

The fleet plan is sent to every worker once (scattered); each task runs one
shard of chip indices (openheg_sim.scenario.chips.run_chips, the same code
the local processes run) and sends back its results, which the engine merges
in chip order: the result equals the single-process run's. A local cluster
of one process per worker is started unless a scheduler address is given; on
a cluster of several machines, the output folder (which holds the authority's
and the vendor's keys the workers load) must be on storage they all see.
"""

from __future__ import annotations

from contextlib import ExitStack

from .chips import ChipResult, run_chips
from .engine import shards
from .fleet import Fleet


def dask_runner(fleet: Fleet, workers: int, scheduler: str | None = None) -> list[ChipResult]:
    from dask.distributed import Client, LocalCluster  # noqa: PLC0415 - only --dask needs it

    parts = shards(len(fleet.chips), workers)
    with ExitStack() as stack:
        if scheduler is None:
            cluster = stack.enter_context(LocalCluster(
                n_workers=len(parts), threads_per_worker=1, processes=True,
                dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        else:
            client = stack.enter_context(Client(scheduler))
        plan = client.scatter(fleet, broadcast=True)
        futures = client.map(run_chips, [plan] * len(parts), parts, pure=False)
        return [result for shard in client.gather(futures) for result in shard]
