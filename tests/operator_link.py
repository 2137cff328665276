"""The operator on the serial link, for tests: it controls what every answer of
the device says on its way to the host."""

from __future__ import annotations

from openheg import wire
from openheg.transport import Transport


class TamperingLink(Transport):
    """The operator on the serial link: every READ_LOG answer passes through
    ``rewrite`` (a function of the parsed response payload)."""

    def __init__(self, inner: Transport, rewrite):
        self.inner, self.rewrite, self.url = inner, rewrite, inner.url

    def exchange(self, request: bytes) -> bytes:
        raw = self.inner.exchange(request)
        if request[0] != wire.Command.READ_LOG:
            return raw
        response = wire.parse_message(wire.ResponseFormat, raw, "response")
        page = wire.parse_message(wire.ReadLogResponseFormat, response.payload, "read-log")
        payload = wire.build_message(wire.ReadLogResponseFormat, self.rewrite(page), "read-log")
        return wire.build_message(wire.ResponseFormat, {**response, "payload": payload},
                                  "response")

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str):
        return getattr(self.inner, name)  # an emulated chip's own handle, for instance


def flip_payload(entry) -> None:
    entry.payload = [value ^ 0x01 for value in entry.payload]


def rewrite_newest_entry(page):
    """An entry no earlier read has seen, so only the chain can tell."""
    for entry in page.entries:
        if entry.index == page.next_index - 1:
            flip_payload(entry)
    return page


def rewrite_oldest_entry(page):
    """The oldest entry still kept: the ledger holds it from the first collect."""
    if page.entries:
        flip_payload(page.entries[0])
    return page


def rewrite_head_before(page):
    page.head_before = bytes(b ^ 0xFF for b in page.head_before)
    return page


class InfoLink(TamperingLink):
    """The operator on the serial link rewriting every INFO answer (unsigned)
    through ``rewrite`` (a function of the parsed INFO payload)."""

    def exchange(self, request: bytes) -> bytes:
        raw = self.inner.exchange(request)
        if request[0] != wire.Command.INFO:
            return raw
        response = wire.parse_message(wire.ResponseFormat, raw, "response")
        info = wire.parse_message(wire.InfoResponseFormat, response.payload, "info")
        payload = wire.build_message(wire.InfoResponseFormat, self.rewrite(info), "info")
        return wire.build_message(wire.ResponseFormat, {**response, "payload": payload},
                                  "response")
