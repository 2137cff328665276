"""firmware/tools/pypi_sdist.py finds an sdist under either spelling of its name
(ed25519-orlp 0.1.3 is uploaded as ed25519_orlp-0.1.3.tar.gz, PEP 625) and still takes
nothing but the pinned bytes."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "firmware" / "tools"))

import pypi_sdist  # noqa: E402

TARBALL = b"the sdist's bytes"


def index_serving(monkeypatch, filenames: list[str], payload: bytes = TARBALL) -> list[str]:
    """Stand the index in for the network: its JSON page lists filenames, each file is
    payload. Returns the URLs fetched."""
    fetched: list[str] = []

    def fetch(url: str, accept: str | None = None) -> bytes:
        fetched.append(url)
        if accept:
            return json.dumps({"files": [{"filename": name, "url": f"https://files/{name}"}
                                         for name in filenames]}).encode()
        return payload

    monkeypatch.setattr(pypi_sdist, "fetch", fetch)
    return fetched


def test_names_cover_the_spelling_and_pep_625():
    assert pypi_sdist.sdist_names("ed25519-orlp", "0.1.3") == (
        "ed25519-orlp-0.1.3.tar.gz", "ed25519_orlp-0.1.3.tar.gz")
    assert pypi_sdist.sdist_names("pynacl", "1.6.2") == ("pynacl-1.6.2.tar.gz",)


def test_the_underscore_upload_is_found(monkeypatch, tmp_path):
    fetched = index_serving(monkeypatch, ["ed25519_orlp-0.1.3-py3-none-any.whl",
                                          "ed25519_orlp-0.1.3.tar.gz"])
    out = tmp_path / "ed25519-orlp-0.1.3.tar.gz"
    pypi_sdist.main("ed25519-orlp", "0.1.3", hashlib.sha256(TARBALL).hexdigest(), str(out))
    assert out.read_bytes() == TARBALL
    assert fetched[-1] == "https://files/ed25519_orlp-0.1.3.tar.gz"


def test_bytes_off_the_pin_are_refused_and_not_written(monkeypatch, tmp_path, capsys):
    index_serving(monkeypatch, ["ed25519_orlp-0.1.3.tar.gz"], payload=b"something else")
    out = tmp_path / "ed25519-orlp-0.1.3.tar.gz"
    with pytest.raises(SystemExit):
        pypi_sdist.main("ed25519-orlp", "0.1.3", hashlib.sha256(TARBALL).hexdigest(), str(out))
    assert not out.exists()
    assert "is not the pinned" in capsys.readouterr().err


def test_a_missing_sdist_names_both_spellings(monkeypatch, tmp_path, capsys):
    index_serving(monkeypatch, ["ed25519_orlp-0.1.2.tar.gz"])
    with pytest.raises(SystemExit):
        pypi_sdist.main("ed25519-orlp", "0.1.3", "0" * 64, str(tmp_path / "x.tar.gz"))
    assert "ed25519-orlp-0.1.3.tar.gz or ed25519_orlp-0.1.3.tar.gz" in capsys.readouterr().err
