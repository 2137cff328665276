"""A client of the verifier service for the CLI: post a fleet order, fetch the
fleet orders in force. The standard library's HTTP client, so the CLI needs
nothing the service does not."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from ..errors import OpenhegError, RecordError, TransportError
from ..wire import Order

MIN_TOKEN_LENGTH = 32  # as the service's configuration asks of a token
MAX_TOKEN_LENGTH = 4096  # a longer file is some other file given by mistake
TIMEOUT_S = 30


class ServiceRefused(OpenhegError):
    """The verifier service answered and refused the request; the message is its reason."""


def service_url(text: str) -> str:
    """The service's base URL, checked: http or https, with a host."""
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise TransportError(f"the verifier service URL {text!r} is not an http:// or "
                             "https:// URL with a host (e.g. http://127.0.0.1:8642)")
    return text.rstrip("/")


def read_token(path: Path) -> str:
    """A bearer token from its file (one line; the file is the secret, not the
    command line, which other users of the machine can read)."""
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise OpenhegError(f"cannot read the token file {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise OpenhegError(f"the token file {path} is not UTF-8 text") from None
    if not MIN_TOKEN_LENGTH <= len(token) <= MAX_TOKEN_LENGTH or len(token.split()) != 1:
        raise OpenhegError(f"the token file {path} does not hold one token of "
                           f"{MIN_TOKEN_LENGTH} to {MAX_TOKEN_LENGTH} characters")
    return token


def _call(request: urllib.request.Request) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:
            return answer.status, _json(request, answer.read())
    except urllib.error.HTTPError as error:
        body = _json(request, error.read(), refused=error.code)
        raise ServiceRefused(f"the verifier at {request.full_url} refused ({error.code}): "
                             f"{body.get('detail', body)}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise TransportError(f"cannot reach the verifier at {request.full_url}: "
                             f"{reason}") from None


def _json(request: urllib.request.Request, data: bytes, refused: int | None = None) -> dict:
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        what = f"refused ({refused}) with" if refused else "answered"
        raise ServiceRefused(f"{request.full_url} {what} something other than a JSON object: "
                             "is it an openheg verifier?")
    return body


def post_fleet_order(base_url: str, token: str, order: Order) -> tuple[bool, dict]:
    """POST the order to /v1/admin/fleet-orders: (whether it is new, the order
    as the service recorded it)."""
    request = urllib.request.Request(
        f"{base_url}/v1/admin/fleet-orders", data=order.to_bytes(), method="POST",
        headers={"Content-Type": "application/octet-stream",
                 "Authorization": f"Bearer {token}"})
    status, body = _call(request)
    return status == 201, body


def fetch_fleet_orders(base_url: str, policy_digest: bytes | None = None) -> list[Order]:
    """The fleet orders in force (of one policy), as GET /v1/fleet-orders lists them."""
    query = "" if policy_digest is None else "?policy=" + policy_digest.hex()
    request = urllib.request.Request(f"{base_url}/v1/fleet-orders{query}")
    _, body = _call(request)
    listed = body.get("orders")
    try:
        if not isinstance(listed, list):
            raise RecordError("no list of orders")
        orders = [Order.from_bytes(bytes.fromhex(item["order"])) for item in listed]
    except (RecordError, ValueError, TypeError, KeyError) as error:
        raise ServiceRefused(f"{request.full_url} answered a list of fleet orders that does "
                             f"not decode: {error}") from None
    if not all(order.fleet for order in orders):
        raise ServiceRefused(f"{request.full_url} listed a per-device order as a fleet order")
    return orders
