"""`soc://PTY` reaches the simulated SoC: the pty, with a timeout for a CPU
simulated cycle by cycle (a signature check takes seconds there)."""

from __future__ import annotations

import os

import pytest
from openheg.errors import TransportError
from openheg.transport import SOC_TIMEOUT_S, SerialTransport, open_transport


def test_soc_url_opens_the_pty_with_the_simulation_timeout():
    device, host = os.openpty()
    try:
        link = open_transport("soc://" + os.ttyname(host), timeout=5)
        try:
            assert isinstance(link, SerialTransport)
            assert link.url == os.ttyname(host)
            assert link._port.timeout == SOC_TIMEOUT_S
            # The device side sees exactly one framed request (COBS, then the 0x00 delimiter).
            link._port.write(b"\x02\x01\x00")
            link._port.flush()
            assert os.read(device, 16) == b"\x02\x01\x00"
        finally:
            link.close()
    finally:
        os.close(device)
        os.close(host)


def test_soc_url_to_a_missing_pty_is_a_transport_error():
    with pytest.raises(TransportError, match="cannot open /dev/pts/no-such-pty"):
        open_transport("soc:///dev/pts/no-such-pty")
