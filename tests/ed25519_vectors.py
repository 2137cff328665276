"""The shared Ed25519 suites with the verdict the strict policy must give.

DESIGN.md requires libsodium's rules on host and device: reject non-canonical
S, non-canonical or small-order A and R. For the CCTV suite the verdict is
derived from each vector's flags by that rule; a cofactorless check also
fails the vectors flagged low_order_residue (libsodium checks without the
cofactor). Wycheproof states its own verdict per vector.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


def _shared_vectors() -> Path:
    """The nearest shared/vectors/ed25519 above this file: inside the checkout,
    beside it (/work/main) or beside the folder of worktrees (/work/wt/NAME)."""
    for folder in Path(__file__).resolve().parents[1:]:
        candidate = folder / "shared" / "vectors" / "ed25519"
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("shared/vectors/ed25519 not found above " + str(Path(__file__).parent))


VECTORS = _shared_vectors()
# The CCTV flags that strict (libsodium) verification must reject.
STRICT_REJECTS = frozenset({"low_order_R", "low_order_A", "non_canonical_A", "non_canonical_R",
                            "low_order_residue"})


@dataclass(frozen=True)
class Case:
    name: str
    public_key: bytes
    message: bytes
    signature: bytes
    valid: bool
    flags: frozenset[str] = frozenset()  # the CCTV suite's flags (its README defines them)


def cctv_cases() -> list[Case]:
    cases = []
    for vector in json.loads((VECTORS / "cctv_ed25519vectors.json").read_text()):
        flags = set(vector["flags"] or ())
        cases.append(Case(f"cctv-{vector['number']}", bytes.fromhex(vector["key"]),
                          vector["msg"].encode(), bytes.fromhex(vector["sig"]),
                          not flags & STRICT_REJECTS, frozenset(flags)))
    return cases


def wycheproof_cases() -> list[Case]:
    suite = json.loads((VECTORS / "wycheproof_ed25519_test.json").read_text())
    cases = []
    for group in suite["testGroups"]:
        public_key = bytes.fromhex(group["publicKey"]["pk"])
        for test in group["tests"]:
            cases.append(Case(f"wycheproof-{test['tcId']}", public_key, bytes.fromhex(test["msg"]),
                              bytes.fromhex(test["sig"]), test["result"] == "valid"))
    return cases


def all_cases() -> list[Case]:
    return cctv_cases() + wycheproof_cases()
