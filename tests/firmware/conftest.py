"""Fixtures for the firmware tests (helpers live in fwkit.py)."""

from __future__ import annotations

import pytest

from fwkit import Authority, Device, provision


@pytest.fixture
def authority() -> Authority:
    return Authority()


@pytest.fixture
def device() -> Device:
    return Device()


@pytest.fixture
def provisioned(authority: Authority) -> Device:
    dev = Device()
    provision(dev, authority)
    return dev
