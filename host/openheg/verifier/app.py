"""The verifier service's HTTP API (FastAPI on uvicorn): `openheg verifier serve`.

Evidence comes in, results go out, everything lands in the ledger:

- ``POST /v1/nonces`` {"device_id": HEX} -> a fresh nonce bound to that device
  with its expiry. The verifier decides freshness (RATS): an attestation must
  answer a nonce issued here, for its own device, before the nonce expires,
  and each nonce is answered by one attestation only.
- ``POST /v1/attestations`` (one attestation's bytes, application/octet-stream,
  or the same report as an EAT, application/eat+cwt: openheg.eat, docs/eat.md)
  and ``POST /v1/attestations/batch`` ({"attestations": [HEX, ...]}) -> for each,
  the verdict as an EAR (openheg.verifier.ear). Evidence that does not verify
  gets a 4xx with the reason and nothing is recorded; the same attestation
  sent twice while its nonce is live is recorded once and gets the same kind
  of verdict (after the nonce expired, it is refused as stale).
- ``GET /healthz``, ``GET /metrics`` (Prometheus text), ``GET /v1/ear-key`` (JWK).
- ``GET /v1/public/summary``: aggregates per license class, no device identity.
- ``GET /v1/devices``, ``/v1/devices/{id}``, ``/v1/workloads``,
  ``/v1/workloads/{name}``: behind a bearer token; the regulator tier sees
  everything, an inspector's token only the workloads whose licenses name that
  inspector and the devices that run them (anything else is a 404, as if it did
  not exist).
- ``GET /dashboard``: HTML for people (openheg.verifier.dashboard).
- ``POST /v1/admin/endorsements``, ``/v1/admin/workloads``, ``/v1/admin/licenses``,
  ``/v1/admin/revocations``: the regulator tier registers what the verifier
  trusts and counts against.
- ``POST /v1/admin/fleet-orders`` (the regulator tier; the board-signed bytes of
  a fleet HALT or LIFT_HALT, application/octet-stream): verified against the
  authority's policy chain (bound to one of its policies, a board quorum of
  that policy, within its lifetime, its sequence above every one recorded for
  that policy), then recorded; 201 when new, 200 for the same bytes again.
- ``GET /v1/fleet-orders`` (public, ``?policy=DIGEST`` for one policy): the fleet
  order in force for each policy, for a data centre's agent to push to each
  device (``openheg verifier fleet-orders push``). Public because every
  operator must be able to fetch it: it is signed by the board, names no
  device, and a halt withheld from the operator only helps the operator.

Status codes: 400 malformed evidence or request, 401/403 a missing or wrong
token, 404 an unknown device or workload, 409 a fleet order replayed or older
than one recorded, 422 evidence that does not verify (signature, endorsement,
nonce, policy, quorum), 503 the ledger is unreachable.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import (HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse,
                               Response)
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from ..board import VoteError, check_order_signatures, valid_signers
from ..eat import MEDIA_TYPE as EAT_MEDIA_TYPE
from ..eat import attestation_from_eat
from ..errors import RecordError, VerificationError
from ..ledger import (DeviceUsage, FleetOrderRefused, Ledger, LedgerError, NonceRefused,
                      ledger_url)
from ..report import ledger_link_cap_excess, usage_anomalies
from ..series import SeriesResult
from ..verify import (EndorsementList, VerifiedAttestation, authenticate_license,
                      decode_attestation, verify_attestation, verify_endorsement)
from ..wire import (ID_SIZE, NONCE_SIZE, ORDER_LIFETIME_S, Attestation, Endorsement, GateCause,
                    License, LicenseClass, Order, OrderKind, WorkloadKind, hex_bytes)
from .config import VerifierConfig
from .dashboard import LOGIN_FORM, overview, workload_page
from .ear import MEDIA_TYPE, appraisal, public_jwk, sign_ear

MAX_BATCH = 1000
DASHBOARD_COOKIE = "openheg_token"


class NonceRequest(BaseModel):
    device_id: str


class BatchRequest(BaseModel):
    attestations: list[str]


class EndorsementRequest(BaseModel):
    endorsement: str  # the record's bytes, hex


class LicenseRequest(BaseModel):
    license: str  # the signed record's bytes, hex


class WorkloadRequest(BaseModel):
    name: str
    workload_id: str
    planned_msflop: int
    lineage_msflop: int = 0
    license_class: str


class RevocationRequest(BaseModel):
    license_id: str
    reason: str


@dataclass(frozen=True)
class Viewer:
    """Who reads: the regulator (everything) or one inspector (by its key)."""

    inspector_key: bytes | None = None

    @property
    def is_regulator(self) -> bool:
        return self.inspector_key is None


@dataclass
class Refusal(Exception):
    status: int
    reason: str


def _hex(text: str, size: int | None, what: str) -> bytes:
    try:
        return hex_bytes(text, size, what)
    except RecordError as error:
        raise Refusal(400, str(error)) from None


def _device_id(text: str) -> bytes:
    return _hex(text, 32, "device_id (the device's public key)")


class Verifier:
    """What the endpoints share: trust anchors, the ledger, the EAR key, metrics."""

    def __init__(self, config: VerifierConfig):
        self.config = config
        self.ledger = Ledger(config.ledger, create_folder=config.ledger == ledger_url(
            config.home / "ledger.sqlite"))  # the default ledger's folder is made
        self.endorsements = EndorsementList.load(config.endorsement_lists, config.vendor_keys)
        # Endorsements registered through the admin API are kept in the ledger and
        # trusted again only while their vendor key is configured.
        for row in self.ledger.devices():
            endorsement = Endorsement.from_bytes(row.endorsement)
            try:
                verify_endorsement(endorsement, config.vendor_keys)
            except VerificationError:
                continue
            self.endorsements.add(endorsement)
        self.ear_key = config.ear_key()
        # The authority's policy chain: licenses authenticate against the policy
        # in force, a fleet order against the policy of the chain it is bound to.
        self.policies = config.authority_policies()
        self.policy = self.policies[-1] if self.policies else None
        self.policy_version = config.policy_version or (
            self.policy.policy_version if self.policy is not None else None)
        self.registry = CollectorRegistry()
        self.verdicts = Counter("openheg_attestations", "Attestations received, by verdict",
                                ["verdict"], registry=self.registry)
        self.nonces = Counter("openheg_nonces_issued", "Nonces issued", registry=self.registry)
        self.registry.register(_LedgerGauges(self))

    def issue_nonce(self, device_hex: str) -> dict:
        device_id = _device_id(device_hex)
        self._endorsement(device_id, unknown_status=404)
        nonce = os.urandom(NONCE_SIZE)
        expires_at = self.ledger.issue_nonce(device_id, nonce, int(time.time()),
                                             self.config.nonce_lifetime_s)
        self.nonces.inc()
        return {"device_id": device_id.hex(), "nonce": nonce.hex(), "expires_at": expires_at}

    def _endorsement(self, device_id: bytes, unknown_status: int):
        try:
            return self.endorsements.for_device(device_id)
        except VerificationError as error:
            if not self.endorsements.endorsements:
                raise Refusal(422, f"{error}: this verifier has no trust anchors yet "
                                   "(vendor_keys and endorsement_lists in its "
                                   "configuration)") from None
            raise Refusal(unknown_status, str(error)) from None

    def appraise_eat(self, token: bytes) -> dict:
        """An EAT: the attestation it carries, once its COSE signature verifies,
        appraised and recorded as that attestation (one appraisal path)."""
        try:
            data = attestation_from_eat(token).to_bytes()
        except RecordError as error:
            self.verdicts.labels("refused").inc()
            raise Refusal(400, f"EAT is malformed: {error}") from None
        except VerificationError as error:
            self.verdicts.labels("refused").inc()
            raise Refusal(422, str(error)) from None
        return self.appraise(data)

    def appraise(self, data: bytes) -> dict:
        """Verify one attestation, record it, return its EAR; Refusal if it must
        not be recorded."""
        outcome = self.appraise_batch([data])[0]
        if isinstance(outcome, Refusal):
            raise outcome
        return outcome

    def appraise_batch(self, batch: list[bytes]) -> list[dict | Refusal]:
        """Each attestation's verdict, in order: its EAR, or the Refusal that
        says why it is not recorded.

        All are verified first; then every one that verifies is recorded, each
        answering its nonce, in one ledger transaction (Ledger.record_answers:
        all or none of the batch, a nonce consumed exactly when its attestation
        is recorded); then each gets its EAR. The series check in an EAR is
        made in that transaction, once per device of the batch, from the
        device's series state and the batch's new reports; the license check,
        of the ledger as the batch left it, once per license."""
        outcomes: list[dict | Refusal | None] = []
        verified = []
        for data in batch:
            try:
                verified.append((data, self._verified(data)))
                outcomes.append(None)
            except Refusal as refusal:
                outcomes.append(refusal)
        now = int(time.time())
        recorded_answers = self.ledger.record_answers(verified, now)
        answers = iter(recorded_answers.outcomes)
        recorded = []  # (index, attestation, new), in batch order
        done = iter(verified)
        for index, outcome in enumerate(outcomes):
            if outcome is not None:
                continue
            answer, att = next(answers), next(done)[1].attestation
            if isinstance(answer, NonceRefused):
                outcomes[index] = Refusal(422, str(answer))
            else:
                recorded.append((index, att, answer))
        series = recorded_answers.series
        usage = self.ledger.license_usages(att.license_id.hex() for _, att, _ in recorded)
        kinds: dict[bytes, WorkloadKind | None | str] = {}  # each license's kind, once a batch
        for index, att, new in recorded:
            found = usage[att.license_id.hex()]
            outcomes[index] = self._result(att, new, series[att.device_id.hex()],
                                           [] if found is None else [found], now, kinds)
        for outcome in outcomes:
            self.verdicts.labels("refused" if isinstance(outcome, Refusal)
                                 else outcome["status"]).inc()
        return outcomes

    def _verified(self, data: bytes) -> VerifiedAttestation:
        """The attestation verified (signature, endorsement, policy), its nonce
        not yet checked; Refusal otherwise."""
        try:
            att = decode_attestation(data)
        except RecordError as error:
            raise Refusal(400, f"attestation is malformed: {error}") from None
        endorsement = self._endorsement(att.device_id, unknown_status=422)
        try:
            return verify_attestation(data, nonce=att.nonce, endorsement=endorsement,
                                      vendor_keys=self.config.vendor_keys,
                                      policy_version=self.policy_version,
                                      endorsement_checked=True, decoded=att)
        except VerificationError as error:
            raise Refusal(422, str(error)) from None

    def _result(self, att: Attestation, recorded: bool, series: SeriesResult,
                usage: list[DeviceUsage], now: int,
                kinds: dict[bytes, WorkloadKind | None | str]) -> dict:
        anomalies = series.anomalies + usage_anomalies(usage)
        # With the authority's policy: the report's limiter against the cap
        # the policy allows its license's kind (docs/security.md G19).
        link = None if self.policy is None else ledger_link_cap_excess(self.ledger, att,
                                                                        self.policy, kinds)
        if link is not None:
            anomalies.append(link)
        report = {"report_counter": att.report_counter, "policy_version": att.policy_version,
                  "license_id": att.license_id.hex(), "license_sequence": att.license_sequence,
                  "consumed_msflop": str(att.consumed_msflop),
                  "remaining_msflop": str(att.remaining_msflop),
                  "gate_state": att.gate_state.name,
                  "gate_causes": _cause_names(att.gate_causes),
                  "anomalies": [a.to_json() for a in anomalies]}
        submod = appraisal(tampered=GateCause.TAMPER in att.gate_causes,
                           series_trusted=series.trusted and (link is None or not link.severe),
                           report=report)
        ear = sign_ear(self.ear_key, issued_at=now, nonce=att.nonce,
                       submods={att.device_id.hex(): submod})
        return {"device_id": att.device_id.hex(), "status": submod["ear.status"],
                "recorded": recorded, "ear": ear}

    # ------------------------------------------------------------- the tiers
    def _inspected(self, viewer: Viewer) -> tuple[set[str], set[str]]:
        """The workload ids and device ids an inspector may see: those of the
        licenses that name it as their inspector."""
        workloads, devices = set(), set()
        for row in self.ledger.licenses():
            if License.from_bytes(row.record).inspector_key == viewer.inspector_key:
                workloads.add(row.workload_id)
                devices.add(row.device_id)
        return workloads, devices

    def devices(self, viewer: Viewer = Viewer()) -> list[dict]:
        visible = None if viewer.is_regulator else self._inspected(viewer)[1]
        out = []
        for row in self.ledger.device_reports():
            if visible is not None and row.device_id not in visible:
                continue
            newest = row.newest
            out.append({"device_id": row.device_id, "reports": row.reports,
                        "last_seen": newest.received_at if newest else None,
                        "gate_state": newest.gate_state if newest else None,
                        "consumed_msflop": str(newest.consumed_msflop) if newest else None})
        return out

    def device(self, device_hex: str, viewer: Viewer = Viewer()) -> dict:
        device_id = _device_id(device_hex).hex()
        for summary in self.devices(viewer):
            if summary["device_id"] == device_id:
                series = self.ledger.series(device_id, now=int(time.time()),
                                            deadline_s=self.config.silence_deadline_s)
                return {**summary, "trusted": series.trusted,
                        "anomalies": [a.to_json() for a in series.anomalies]}
        raise Refusal(404, f"device {device_id[:16]}... has never reported to this verifier")

    def workloads(self, viewer: Viewer = Viewer()) -> list[dict]:
        visible = None if viewer.is_regulator else self._inspected(viewer)[0]
        return [self._workload(row) for row in self.ledger.workloads()
                if visible is None or row.workload_id in visible]

    def workload(self, name: str, viewer: Viewer = Viewer()) -> dict:
        for workload in self.workloads(viewer):
            if workload["name"] == name:
                return workload
        raise Refusal(404, f"workload {name!r} is not in the ledger")

    # ------------------------------------------------------------ the admin
    def add_endorsement(self, text: str) -> dict:
        try:
            endorsement = Endorsement.from_bytes(_hex(text, None, "endorsement"))
            verify_endorsement(endorsement, self.config.vendor_keys)
        except RecordError as error:
            raise Refusal(400, f"endorsement is malformed: {error}") from None
        except VerificationError as error:
            raise Refusal(422, str(error)) from None
        self.ledger.record_device(endorsement)
        self.endorsements.add(endorsement)
        return {"device_id": endorsement.device_id.hex()}

    def add_workload(self, body: WorkloadRequest) -> dict:
        workload_id = _hex(body.workload_id, ID_SIZE, "workload_id")
        if body.license_class not in LicenseClass.__members__:
            raise Refusal(400, f"license_class is one of {sorted(LicenseClass.__members__)}")
        if not (0 <= body.planned_msflop < 1 << 128 and 0 <= body.lineage_msflop < 1 << 128):
            raise Refusal(400, "planned_msflop and lineage_msflop are u128 milli-sFLOP")
        try:
            self.ledger.record_workload(body.name, workload_id, body.planned_msflop,
                                        body.lineage_msflop, body.license_class)
        except LedgerError as error:
            raise Refusal(409, str(error)) from None
        return {"name": body.name, "workload_id": workload_id.hex()}

    def add_license(self, text: str) -> dict:
        try:
            license_ = License.from_bytes(_hex(text, None, "license"))
        except RecordError as error:
            raise Refusal(400, f"license is malformed: {error}") from None
        if self.policy is not None:
            try:
                authenticate_license(self.policy, license_)
            except VerificationError as error:
                raise Refusal(422, str(error)) from None
        self.ledger.record_license(license_)
        return {"license_id": license_.license_id.hex()}

    def revoke(self, body: RevocationRequest) -> dict:
        license_id = _hex(body.license_id, ID_SIZE, "license_id")
        try:
            row = self.ledger.revoke_license(license_id, body.reason)
        except LedgerError as error:
            raise Refusal(404, str(error)) from None
        return {"license_id": row.license_id, "revoked_at": row.revoked_at,
                "reason": row.revoked_reason}

    def add_fleet_order(self, data: bytes) -> tuple[dict, bool]:
        """Verify a board-signed fleet order as every device under its policy
        will (bound to a policy of the chain this verifier trusts, a board
        quorum of that policy, within its lifetime), then record it if its
        sequence is above every one recorded for that policy. Returns the
        order as GET /v1/fleet-orders shows it and whether it is new; Refusal
        otherwise, with nothing recorded."""
        try:
            order = Order.from_bytes(data)
        except RecordError as error:
            raise Refusal(400, f"fleet order is malformed: {error}") from None
        if not order.fleet:
            raise Refusal(422, "this is a per-device order (it names a device, no policy): "
                               "deliver it to its device with `openheg order send`; the "
                               "service records fleet orders only")
        if not self.policies:
            raise Refusal(422, "this verifier trusts no policy chain, so it cannot check the "
                               "board's quorum: set authority in its configuration")
        policy = next((p for p in self.policies if p.digest == order.policy_digest), None)
        if policy is None:
            raise Refusal(422, f"the fleet order is bound to policy "
                               f"{order.policy_digest.hex()[:16]}..., which is not a policy of "
                               f"the chain this verifier trusts (v1 to "
                               f"v{self.policies[-1].policy_version})")
        try:
            check_order_signatures(policy, order, None)
            signers = valid_signers(order, policy.revoked_keys) & set(policy.board_keys)
        except VoteError as error:
            raise Refusal(422, str(error)) from None
        now = int(time.time())
        if now >= order.issued_at + ORDER_LIFETIME_S:
            raise Refusal(422, f"the fleet order was issued at {order.issued_at}, more than "
                               f"{ORDER_LIFETIME_S} s ago: past its lifetime no device takes "
                               "it (the board signs a fresh one)")
        try:
            new = self.ledger.record_fleet_order(order, signers, now)
        except FleetOrderRefused as error:
            raise Refusal(409, str(error)) from None
        row = next(r for r in self.ledger.fleet_orders(order.policy_digest.hex())
                   if r.sequence == order.sequence)
        return self._fleet_order(row), new

    def fleet_orders_in_force(self, policy_hex: str | None = None) -> list[dict]:
        """The newest recorded fleet order of each policy (of one, by digest):
        sequences have no window on the device, so it is the one that counts."""
        digest = None if policy_hex is None else _hex(policy_hex, 32, "policy (its digest)").hex()
        newest: dict[str, object] = {}
        for row in self.ledger.fleet_orders(digest):
            newest[row.policy_digest] = row  # by sequence: the last is the highest
        return [self._fleet_order(row) for row in newest.values()]

    def fleet_order_history(self) -> list[dict]:
        return [self._fleet_order(row) for row in self.ledger.fleet_orders()]

    def _fleet_order(self, row) -> dict:
        version = next((p.policy_version for p in self.policies
                        if p.digest.hex() == row.policy_digest), None)
        return {"policy_digest": row.policy_digest, "policy_version": version,
                "order_kind": row.order_kind, "sequence": row.sequence,
                "issued_at": row.issued_at, "expires_at": row.issued_at + ORDER_LIFETIME_S,
                "signers": row.signers.split(",") if row.signers else [],
                "recorded_at": row.recorded_at, "order": row.record.hex()}

    def devices_not_halted(self) -> int:
        """Devices whose newest report runs a policy whose fleet order in force
        is a HALT and does not show the halt: received before the halt was
        issued, or with the gate open to it (no HALTED cause)."""
        halts = {o["policy_digest"]: o for o in self.fleet_orders_in_force()
                 if o["order_kind"] == OrderKind.HALT.name}
        if not halts:
            return 0
        count = 0
        for row in self.ledger.device_reports():
            newest = row.newest
            if newest is None:
                continue
            att = Attestation.from_bytes(newest.record)
            halt = halts.get(att.policy_digest.hex())
            if halt is not None and (newest.received_at < halt["issued_at"]
                                     or GateCause.HALTED not in att.gate_causes):
                count += 1
        return count

    def _workload(self, row) -> dict:
        usage = self.ledger.usage(row.workload_id)
        return {"name": row.name, "workload_id": row.workload_id,
                "license_class": row.license_class, "planned_msflop": str(row.planned_msflop),
                "lineage_msflop": str(row.lineage_msflop),
                "allocation_msflop": str(sum(u.allocation_msflop for u in usage)),
                "consumed_msflop": str(sum(u.consumed_msflop for u in usage)),
                "devices": len({u.device_id for u in usage}),
                "last_seen": max((u.last_report_at for u in usage
                                  if u.last_report_at is not None), default=None)}

    def public_summary(self) -> dict:
        """Per license class: how many workloads and how much compute, no identities."""
        classes: dict[str, dict] = {}
        for workload in self.workloads():
            entry = classes.setdefault(workload["license_class"],
                                       {"workloads": 0, "consumed_msflop": 0})
            entry["workloads"] += 1
            entry["consumed_msflop"] += int(workload["consumed_msflop"])
        return {"classes": {name: {**entry, "consumed_msflop": str(entry["consumed_msflop"])}
                            for name, entry in sorted(classes.items())}}

    def silent_devices(self, now: int) -> int:
        deadline = now - self.config.silence_deadline_s
        return sum(1 for d in self.devices() if d["last_seen"] is not None
                   and d["last_seen"] < deadline)


@lru_cache(maxsize=256)
def _cause_names(causes: GateCause) -> list[str]:
    """The names of the causes set, in GateCause's order: made once per set of
    causes (a flag's membership test costs as much as the rest of a result).
    The list is shared: callers only read it."""
    return [cause.name for cause in GateCause if cause in causes]


class _LedgerGauges:
    """Gauges read from the ledger at each scrape: a verifier that stops
    verifying shows as silent devices rising, whatever this process believes."""

    def __init__(self, verifier: Verifier):
        self.verifier = verifier

    def collect(self):
        devices = GaugeMetricFamily("openheg_devices", "Devices that have reported")
        silent = GaugeMetricFamily("openheg_devices_silent",
                                   "Devices with no report within silence_deadline_s")
        not_halted = GaugeMetricFamily(
            "openheg_devices_not_halted",
            "Devices under a policy whose fleet order in force is a HALT whose newest "
            "report does not show it")
        devices.add_metric([], len(self.verifier.ledger.devices()))
        silent.add_metric([], self.verifier.silent_devices(int(time.time())))
        not_halted.add_metric([], self.verifier.devices_not_halted())
        yield devices
        yield silent
        yield not_halted


def create_app(config: VerifierConfig) -> FastAPI:
    verifier = Verifier(config)
    app = FastAPI(title="openheg verifier", version="1",
                  description="Verifies openheg co-processor attestations, records them in "
                              "the ledger, and returns EAR attestation results.")
    app.state.verifier = verifier
    bearer = HTTPBearer(auto_error=False)

    def _known(digest: str, allowed: frozenset[str]) -> bool:
        return any(hmac.compare_digest(digest, h) for h in allowed)

    def viewer_for(token: str) -> Viewer | None:
        """The tier a token opens, None for a token this verifier does not know."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        if _known(digest, config.token_hashes.get("regulator", frozenset())):
            return Viewer()
        for key, allowed in config.inspector_tokens.items():
            if _known(digest, allowed):
                return Viewer(inspector_key=key)
        return None

    def viewer(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Viewer:
        if credentials is None:
            raise HTTPException(401, "this endpoint needs a regulator's or an inspector's "
                                     "token: send Authorization: Bearer TOKEN",
                                headers={"WWW-Authenticate": "Bearer"})
        who = viewer_for(credentials.credentials)
        if who is None:
            raise HTTPException(403, "the token is not a token of this verifier")
        return who

    def dashboard_viewer(request: Request) -> Viewer | None:
        token = request.cookies.get(DASHBOARD_COOKIE)
        return viewer_for(token) if token else None

    def regulator(who: Viewer = Depends(viewer)) -> None:
        if not who.is_regulator:
            raise HTTPException(403, "this endpoint is the regulator tier")

    @app.exception_handler(Refusal)
    async def _refused(_request: Request, refusal: Refusal) -> JSONResponse:
        return JSONResponse({"detail": refusal.reason}, status_code=refusal.status)

    @app.exception_handler(LedgerError)
    async def _ledger_down(_request: Request, error: LedgerError) -> JSONResponse:
        return JSONResponse({"detail": f"ledger unavailable: {error}"}, status_code=503)

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok", "ledger_revision": verifier.ledger.schema_revision()}

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(verifier.registry).decode(),
                                 media_type="text/plain; version=0.0.4")

    @app.get("/v1/ear-key")
    def ear_key() -> dict:
        return public_jwk(verifier.ear_key)

    @app.post("/v1/nonces", status_code=201)
    def nonces(body: NonceRequest) -> dict:
        return verifier.issue_nonce(body.device_id)

    @app.post("/v1/attestations", responses={200: {"content": {MEDIA_TYPE: {}}}},
              openapi_extra={"requestBody": {"required": True, "content": {
                  media: {"schema": {"type": "string", "format": "binary"}}
                  for media in ("application/octet-stream", EAT_MEDIA_TYPE)}}})
    async def attestations(request: Request) -> dict:
        media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        appraise = verifier.appraise_eat if media == EAT_MEDIA_TYPE else verifier.appraise
        return await run_in_threadpool(appraise, await request.body())

    @app.post("/v1/attestations/batch")
    def batch(body: BatchRequest) -> dict:
        if len(body.attestations) > MAX_BATCH:
            raise Refusal(400, f"a batch holds at most {MAX_BATCH} attestations")
        decoded: list[bytes | None] = []
        for text in body.attestations:
            try:
                decoded.append(bytes.fromhex(text))
            except ValueError:
                decoded.append(None)
        outcomes = iter(verifier.appraise_batch([d for d in decoded if d is not None]))
        results = []
        for data in decoded:
            outcome = {"error": "not hex", "http_status": 400} if data is None else next(outcomes)
            results.append({"error": outcome.reason, "http_status": outcome.status}
                           if isinstance(outcome, Refusal) else outcome)
        # Plain JSON already: returned as the response, not walked again by
        # FastAPI's jsonable_encoder first (which cost more than the dumps).
        return JSONResponse({"results": results})

    @app.get("/v1/public/summary")
    def public_summary() -> dict:
        return verifier.public_summary()

    @app.get("/v1/devices")
    def devices(who: Viewer = Depends(viewer)) -> dict:
        return {"devices": verifier.devices(who)}

    @app.get("/v1/devices/{device_id}")
    def device(device_id: str, who: Viewer = Depends(viewer)) -> dict:
        return verifier.device(device_id, who)

    @app.get("/v1/workloads")
    def workloads(who: Viewer = Depends(viewer)) -> dict:
        return {"workloads": verifier.workloads(who)}

    @app.get("/v1/workloads/{name}")
    def workload(name: str, who: Viewer = Depends(viewer)) -> dict:
        return verifier.workload(name, who)

    @app.get("/dashboard", response_class=HTMLResponse)
    def dashboard(who: Viewer | None = Depends(dashboard_viewer)) -> HTMLResponse:
        return HTMLResponse(overview(verifier, who, int(time.time())))

    @app.get("/dashboard/login", response_class=HTMLResponse)
    def login_form() -> HTMLResponse:
        return HTMLResponse(LOGIN_FORM)

    @app.post("/dashboard/login")
    async def login(request: Request) -> Response:
        token = parse_qs((await request.body()).decode("utf-8", "replace")).get("token", [""])[0]
        if viewer_for(token) is None:
            return HTMLResponse(LOGIN_FORM.replace("<form", "<p class=severe>That token is "
                                                   "not a token of this verifier.</p><form"),
                                status_code=403)
        response = RedirectResponse("/dashboard", status_code=303)
        response.set_cookie(DASHBOARD_COOKIE, token, httponly=True, samesite="strict")
        return response

    @app.get("/dashboard/workloads/{name}", response_class=HTMLResponse)
    def dashboard_workload(name: str,
                           who: Viewer | None = Depends(dashboard_viewer)) -> HTMLResponse:
        if who is None:
            raise HTTPException(401, "sign in at /dashboard/login to see workloads")
        verifier.workload(name, who)  # 404 unless this tier sees it
        if verifier.policy is None:
            raise Refusal(409, "plotting a workload against F(t) and H(t) needs the "
                               "authority's policy: set authority in the configuration")
        return HTMLResponse(workload_page(verifier, who, name, int(time.time())))

    @app.post("/v1/admin/endorsements", status_code=201, dependencies=[Depends(regulator)])
    def add_endorsement(body: EndorsementRequest) -> dict:
        return verifier.add_endorsement(body.endorsement)

    @app.post("/v1/admin/workloads", status_code=201, dependencies=[Depends(regulator)])
    def add_workload(body: WorkloadRequest) -> dict:
        return verifier.add_workload(body)

    @app.post("/v1/admin/licenses", status_code=201, dependencies=[Depends(regulator)])
    def add_license(body: LicenseRequest) -> dict:
        return verifier.add_license(body.license)

    @app.post("/v1/admin/revocations", dependencies=[Depends(regulator)])
    def revoke(body: RevocationRequest) -> dict:
        return verifier.revoke(body)

    @app.post("/v1/admin/fleet-orders", status_code=201, dependencies=[Depends(regulator)],
              responses={200: {"description": "The same order was recorded before"}},
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/octet-stream": {"schema": {"type": "string",
                                                          "format": "binary"}}}}})
    async def add_fleet_order(request: Request) -> JSONResponse:
        order, new = await run_in_threadpool(verifier.add_fleet_order, await request.body())
        return JSONResponse({**order, "recorded": new}, status_code=201 if new else 200)

    @app.get("/v1/fleet-orders")
    def fleet_orders(policy: str | None = None) -> dict:
        return {"orders": verifier.fleet_orders_in_force(policy)}

    return app


# How `serve` tells its worker processes which configuration to load: each
# worker is a fresh interpreter that uvicorn starts, importing app_from_environment.
WORKER_CONFIG_ENV = "OPENHEG_VERIFIER_WORKER_CONFIG"


def serve(config: VerifierConfig, config_file: Path | None = None) -> None:
    """Run the service until interrupted: one uvicorn process, or with
    ``config.workers`` > 1 that many worker processes on one port (uvicorn's
    supervisor), each loading the configuration again as ``config_file`` and
    the flags gave it. The workers share nothing but the ledger."""
    import uvicorn

    if config.workers == 1:
        uvicorn.run(_serving(create_app(config)), host=config.host, port=config.port,
                    log_level="info")
        return
    config.ear_key()  # made once here, not raced by the workers' first requests
    os.environ[WORKER_CONFIG_ENV] = json.dumps({
        "home": str(config.home), "path": None if config_file is None else str(config_file),
        "ledger": config.ledger, "host": config.host, "port": config.port,
        "workers": config.workers})
    uvicorn.run("openheg.verifier.app:app_from_environment", factory=True, host=config.host,
                port=config.port, workers=config.workers, log_level="info")


def app_from_environment() -> FastAPI:
    """One worker's app, from the configuration `serve` put in the environment."""
    given = json.loads(os.environ[WORKER_CONFIG_ENV])
    return _serving(create_app(VerifierConfig.load(
        Path(given["home"]), None if given["path"] is None else Path(given["path"]),
        ledger=given["ledger"], host=given["host"], port=given["port"],
        workers=given["workers"])))


def _serving(app: FastAPI) -> FastAPI:
    """The app, ready to serve: what the process holds once started (modules,
    the app, its trust anchors) is moved out of the garbage collector's sight
    (gc.freeze). A batch makes many short-lived objects, so collections run
    often, and each full one walked all of it: measured, a third to half of a
    batch's time (docs/verifier.md, Scaling out)."""
    gc.collect()
    gc.freeze()
    return app
