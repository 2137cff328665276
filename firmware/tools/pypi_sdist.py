"""Download one pinned source distribution from a PyPI index, checked by sha256.

usage: pypi_sdist.py PACKAGE VERSION SHA256 OUT_FILE

`pip download --no-binary :all:` prepares the package's metadata first, which
means building its build dependencies from source (pymonocypher's Cython took
minutes on a fresh machine). Only the file is needed: this reads the index's
JSON page (PEP 691) for the sdist's URL and fetches it. The bytes are checked
against the pin before the file appears under OUT_FILE; nothing else is
trusted from the index. PIP_INDEX_URL, when set, names the index (a mirror).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path

INDEX = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
TIMEOUT_S = 120


def fail(message: str) -> None:
    print(f"pypi_sdist: {message}", file=sys.stderr)
    sys.exit(1)


def fetch(url: str, accept: str | None = None) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return response.read()
    except (urllib.error.URLError, OSError) as error:
        fail(f"cannot fetch {url}: {error}")
        raise  # unreachable


def fetch_pinned(package: str, filename: str | tuple[str, ...], sha256: str) -> bytes:
    """The bytes of one file of a package on the index (the first of the names
    it has), checked against the pin."""
    names = (filename,) if isinstance(filename, str) else filename
    page = json.loads(fetch(f"{INDEX}/{package}/", "application/vnd.pypi.simple.v1+json"))
    files = [f for name in names for f in page.get("files", []) if f.get("filename") == name]
    if not files:
        fail(f"{INDEX} has no {' or '.join(names)}")
    data = fetch(files[0]["url"])
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        fail(f"{files[0]['filename']}: sha256 {digest} is not the pinned {sha256}")
    return data


def sdist_names(package: str, version: str) -> tuple[str, ...]:
    """The names the sdist can have: as the package is spelled, and as PEP 625
    normalises it (ed25519-orlp 0.1.3 is ed25519_orlp-0.1.3.tar.gz). Either is
    safe to take: the pin checks the bytes, not the name."""
    normalised = re.sub(r"[-_.]+", "_", package).lower()
    return tuple(dict.fromkeys((f"{package}-{version}.tar.gz", f"{normalised}-{version}.tar.gz")))


def main(package: str, version: str, sha256: str, out_file: str) -> None:
    data = fetch_pinned(package, sdist_names(package, version), sha256)
    out = Path(out_file)
    tmp = out.with_name(out.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(out)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        fail("usage: pypi_sdist.py PACKAGE VERSION SHA256 OUT_FILE")
    main(*sys.argv[1:])
