"""Key files: formats of the ecosystem, 0600, encryption, clear errors."""

from __future__ import annotations

import stat

import pytest

from openheg.crypto import SigningKey, load_public_key, public_path
from openheg.errors import KeyFileError
from openheg.roles import ISSUER_KEY, Role


def test_created_key_is_private_and_round_trips(tmp_path):
    role = Role.create(tmp_path, ISSUER_KEY)
    path = tmp_path / ISSUER_KEY
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public_path(path).read_text().startswith("ssh-ed25519 ")
    assert Role.load(tmp_path, ISSUER_KEY).public_key == role.public_key
    assert load_public_key(public_path(path)) == role.public_key


def test_encrypted_key_needs_its_passphrase(tmp_path):
    role = Role.create(tmp_path, ISSUER_KEY, b"correct horse")
    assert (tmp_path / ISSUER_KEY).read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY")
    assert Role.load(tmp_path, ISSUER_KEY, b"correct horse").public_key == role.public_key
    with pytest.raises(KeyFileError, match="encrypted: give its passphrase"):
        Role.load(tmp_path, ISSUER_KEY)
    with pytest.raises(KeyFileError, match="passphrase is wrong"):
        Role.load(tmp_path, ISSUER_KEY, b"wrong")


def test_existing_key_is_never_overwritten(tmp_path):
    first = Role.create(tmp_path, ISSUER_KEY)
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        Role.create(tmp_path, ISSUER_KEY)
    assert Role.load(tmp_path, ISSUER_KEY).public_key == first.public_key


def test_bad_key_files_are_named_in_the_error(tmp_path):
    with pytest.raises(KeyFileError, match="not found"):
        Role.load(tmp_path, ISSUER_KEY)
    (tmp_path / "junk.pub").write_text("hello")
    with pytest.raises(KeyFileError, match="junk.pub is not an Ed25519 public key"):
        load_public_key(tmp_path / "junk.pub")
    (tmp_path / "hex.pub").write_text(SigningKey.generate().public_key.hex())
    assert len(load_public_key(tmp_path / "hex.pub")) == 32


def test_cli_keys_are_encrypted_with_the_passphrase_from_the_environment(tmp_path, monkeypatch,
                                                                         capsys):
    from openheg.cli import EXIT_BAD_INPUT, EXIT_OK, main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PW", "correct horse")
    assert main(["--passphrase-env", "PW", "authority", "create", "auth", "--board-size", "2",
                 "--threshold", "1"]) == EXIT_OK
    for key in (tmp_path / "auth" / "keys").glob("*.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert key.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY")
    assert main(["--passphrase-env", "PW", "authority", "keygen", "member.key"]) == EXIT_OK
    assert main(["policy", "draft", "--authority", "auth", "--set", "oversight_min_ppm=2000",
                 "--out", "p.json"]) == EXIT_OK
    capsys.readouterr()
    assert main(["board", "sign", "p.json", "--key", "auth/keys/board-1.key",
                 "--out", "s"]) == EXIT_BAD_INPUT
    assert "encrypted: give its passphrase" in capsys.readouterr().err
    monkeypatch.setenv("PW", "wrong")
    assert main(["--passphrase-env", "PW", "board", "sign", "p.json", "--key",
                 "auth/keys/board-1.key", "--out", "s"]) == EXIT_BAD_INPUT
    monkeypatch.setenv("PW", "correct horse")
    assert main(["--passphrase-env", "PW", "board", "sign", "p.json", "--key",
                 "auth/keys/board-1.key", "--out", "s"]) == EXIT_OK
    assert main(["board", "combine", "p.json", "s", "--authority", "auth", "--out", "v2.bin",
                 "--publish"]) == EXIT_OK


# All zeros and the identity (y = 1) are small-order; y = p (2^255 - 19) is a
# non-canonical encoding of 0. None can ever verify a strict signature.
UNUSABLE_KEYS = {
    "all-zero": bytes(32),
    "identity": bytes([1]) + bytes(31),
    "non-canonical": bytes.fromhex("ed" + "ff" * 30 + "7f"),
}


@pytest.mark.parametrize("name", sorted(UNUSABLE_KEYS))
def test_a_small_order_or_non_canonical_key_file_is_refused(tmp_path, name):
    path = tmp_path / f"{name}.pub"
    path.write_text(UNUSABLE_KEYS[name].hex())
    with pytest.raises(KeyFileError, match=f"{name}.pub is not a usable Ed25519 public key"):
        load_public_key(path)


@pytest.mark.parametrize("name", sorted(UNUSABLE_KEYS))
def test_the_cli_refuses_a_small_order_key_given_in_hex(name):
    from openheg.cli._common import public_key_arg

    with pytest.raises(KeyFileError, match="not a usable Ed25519 public key"):
        public_key_arg(UNUSABLE_KEYS[name].hex())
