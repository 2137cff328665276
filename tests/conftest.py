import os
import sys
from pathlib import Path

import pytest

# Shared test helpers (vector loaders) live beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))


# Test files that build into the same cocotb directories (build/rtl/<tag>-<sim>/, via
# rtl_runner.py, meter_tb.py and limiter_tb.py) and merge coverage across runs.
COCOTB_FILES = frozenset({
    "rtl/test_counter_frontend_rtl.py", "rtl/test_firmware_on_rtl.py",
    "rtl/test_heg_link_rtl.py", "rtl/test_heg_meter_rtl.py", "rtl/test_stream_limiter_rtl.py",
})


def worker_group(nodeid: str) -> str:
    """Which tests one pytest-xdist worker runs together, in file order. A test
    file is one group: its module- and session-scoped fixtures are set up once.
    The cocotb files share build directories, and the SoC tests share one
    Verilator build of the SoC: each of those sets is one group as a whole."""
    path = nodeid.split("::", 1)[0].removeprefix("tests/")
    if path in COCOTB_FILES:
        return "cocotb"
    if path.startswith("soc/"):
        return "soc"
    return path


def pytest_xdist_make_scheduler(config, log):
    """`make test` runs the suite on TEST_JOBS workers; tests are handed out by
    worker_group. (xdist's own loadgroup marks do not reach pytest 9's node ids.)"""
    from xdist.scheduler import LoadScopeScheduling

    class WorkerGroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid)

    return WorkerGroupScheduling(config, log)


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server (tools/postgres_server.py), one per worker,
    stopped by the process id it started."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    from postgres_server import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


_database_numbers = iter(range(1, 1 << 30))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A fresh, empty ledger database of each kind the ledger runs on."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    server = request.getfixturevalue("postgres")
    return server.create_database(f"ledger_{os.getpid()}_{next(_database_numbers)}")
