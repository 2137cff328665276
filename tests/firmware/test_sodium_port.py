"""libsodium's SHA-512 and scalar reduction as the firmware links them: libsodium's own
SHA-512, and Monocypher's reduction behind libsodium's sc25519_reduce
(firmware/src/sodium_port.c). Held to the NIST vectors, hashlib, Python's integers, and
RFC 8032 through the firmware's own Ed25519 (whose verify is libsodium's, bound to these
two)."""

from __future__ import annotations

import hashlib
import random
import re
import subprocess
from pathlib import Path

import nacl.signing
import pytest

from openheg_sim.firmware import ed25519_keypair, ed25519_sign, ed25519_verify, ffi, lib

from fwkit import REPO, make

# FIPS 180-4 examples (NIST's SHA-512 example values), one and two blocks, the
# empty message and the million-byte one.
NIST_SHA512 = (
    (b"", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
          "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"),
    (b"abc", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
             "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"),
    (b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
     "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445"),
    (b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
     b"ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
     "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
     "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"),
    (b"a" * 1_000_000, "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
                       "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"),
)

L = 2**252 + 27742317777372353535851937790883648493


def sha512_once(message: bytes) -> bytes:
    out = ffi.new("unsigned char[64]")
    assert lib.crypto_hash_sha512(out, message, len(message)) == 0
    return bytes(out)


def sha512_in_parts(parts: list[bytes]) -> bytes:
    state = ffi.new("crypto_hash_sha512_state *")
    out = ffi.new("unsigned char[64]")
    assert lib.crypto_hash_sha512_init(state) == 0
    for part in parts:
        # An empty part goes in as NULL, as libsodium's verify passes an empty message.
        assert lib.crypto_hash_sha512_update(state, part or ffi.NULL, len(part)) == 0
    assert lib.crypto_hash_sha512_final(state, out) == 0
    return bytes(out)


def reduce(wide: bytes) -> bytes:
    buf = ffi.new("unsigned char[64]", wide)
    lib.sc25519_reduce(buf)
    return bytes(buf)


@pytest.mark.parametrize("message, digest", NIST_SHA512, ids=("empty", "abc", "448-bit",
                                                               "896-bit", "million-a"))
def test_sha512_gives_the_nist_digests(message, digest):
    assert hashlib.sha512(message).hexdigest() == digest  # the table itself is right
    assert sha512_once(message).hex() == digest
    step = 1 if len(message) < 1000 else 4093  # byte by byte, or odd-sized pieces
    assert sha512_in_parts([message[i:i + step] for i in range(0, len(message), step)
                            ]).hex() == digest


def test_sha512_agrees_with_hashlib_at_every_padding_boundary():
    """Every length up to three blocks: the final block's padding takes each of its
    shapes (room for the length, or not: 111, 112, 127, 128 bytes into a block)."""
    data = bytes(random.Random(512).randbytes(3 * 128 + 1))
    for n in range(len(data) + 1):
        assert sha512_once(data[:n]) == hashlib.sha512(data[:n]).digest(), n


def test_sha512_agrees_with_hashlib_over_random_lengths_and_splits():
    rng = random.Random(0x5A512)
    for _ in range(300):
        message = rng.randbytes(rng.choice((rng.randrange(0, 300), rng.randrange(0, 5000))))
        cuts = sorted(rng.randrange(0, len(message) + 1) for _ in range(rng.randrange(0, 6)))
        parts = [message[a:b] for a, b in zip([0, *cuts], [*cuts, len(message)])]
        assert sha512_in_parts(parts) == hashlib.sha512(message).digest(), (len(message), cuts)


def test_sha512_final_wipes_the_state():
    """libsodium's final wipes the state and crypto_port.c relies on it (heg_crypto_digest_final
    does not wipe again)."""
    state = ffi.new("crypto_hash_sha512_state *")
    lib.crypto_hash_sha512_init(state)
    lib.crypto_hash_sha512_update(state, b"secret" * 30, 180)
    zeros = bytes(ffi.sizeof("crypto_hash_sha512_state"))
    assert bytes(ffi.buffer(state)) != zeros
    lib.crypto_hash_sha512_final(state, ffi.new("unsigned char[64]"))
    assert bytes(ffi.buffer(state)) == zeros


def check_reduce(wide: bytes) -> None:
    reduced = reduce(wide)
    assert int.from_bytes(reduced[:32], "little") == int.from_bytes(wide, "little") % L, wide.hex()
    assert reduced[32:] == wide[32:]  # left as they were, as libsodium leaves them


@pytest.mark.parametrize("value", (0, 1, L - 1, L, L + 1, 2 * L - 1, 2 * L, 2**252, 2**253 - 1,
                                   2**256 - 1, 2**256, (2**512 // L) * L, (2**512 // L) * L - 1,
                                   2**512 - 1))
def test_reduce_matches_python_on_edges(value):
    check_reduce(value.to_bytes(64, "little"))


def test_reduce_matches_python_on_random_inputs():
    rng = random.Random(0x25519)
    for _ in range(2000):
        check_reduce(rng.randbytes(64))
    for _ in range(500):  # multiples of L and their neighbours, over the whole width
        k = rng.randrange(0, 2**512 // L + 1)
        for value in (k * L - 1, k * L, k * L + 1):
            if 0 <= value < 2**512:
                check_reduce(value.to_bytes(64, "little"))


# RFC 8032 section 7.1, TEST 3 and TEST SHA(abc) (TEST 1 and 2 are in test_crypto_port.py):
# seed, public key, message, signature.
RFC8032_MORE = (
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
     "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"),
)


@pytest.mark.parametrize("seed, public_key, message, signature", RFC8032_MORE)
def test_rfc8032_keys_signatures_and_verdicts(seed, public_key, message, signature):
    pk, sk = ed25519_keypair(bytes.fromhex(seed))
    msg = bytes.fromhex(message)
    assert pk.hex() == public_key
    assert ed25519_sign(sk, msg).hex() == signature
    assert ed25519_verify(pk, msg, bytes.fromhex(signature))
    tampered = bytearray(bytes.fromhex(signature))
    tampered[40] ^= 1  # S changes: the reduced challenge no longer balances
    assert not ed25519_verify(pk, msg, bytes(tampered))


def test_signatures_and_verdicts_match_pynacl_across_block_boundaries():
    """Messages around the SHA-512 block size and past it: the device's signature is
    libsodium's byte for byte, and it verifies PyNaCl's and refuses a changed message."""
    rng = random.Random(8032)
    for length in (*range(60, 70), *range(120, 136), 255, 256, 257, 1023, 4096):
        seed = rng.randbytes(32)
        message = rng.randbytes(length)
        key = nacl.signing.SigningKey(seed)
        expected = key.sign(message).signature
        pk, sk = ed25519_keypair(seed)
        assert ed25519_sign(sk, message) == expected, length
        assert ed25519_verify(pk, message, expected), length
        assert not ed25519_verify(pk, message[:-1] + bytes([message[-1] ^ 1]), expected), length


def symbol_types(nm: str, binary: Path) -> dict[str, set[str]]:
    out = subprocess.run([nm, str(binary)], capture_output=True, text=True, check=True).stdout
    types: dict[str, set[str]] = {}
    for parts in map(str.split, out.splitlines()):
        if len(parts) == 3:
            types.setdefault(parts[2], set()).add(parts[1])
    return types


def map_parts(link_map: str) -> tuple[str, str, str]:
    """A GNU ld map's archive members pulled in, its discarded input sections, and the rest."""
    members, rest = link_map.split("Discarded input sections", 1)
    discarded, placed = rest.split("Memory Configuration", 1)
    return members, discarded, placed


@pytest.mark.parametrize("nm, target", (
    ("arm-none-eabi-nm", "build/firmware/cm4/openheg_cm4_board.elf"),
    ("arm-none-eabi-nm", "build/firmware/cm4/openheg_cm4.elf"),
    ("riscv64-unknown-elf-nm", "build/firmware/rv32/openheg_rv32.elf"),
), ids=("cm4-board", "cm4-qemu", "rv32"))
def test_images_link_monocyphers_reduction_and_libsodiums_sha512(nm, target):
    """The images run what the tests above test: the reduction bound strongly (libsodium's,
    weak in the archive the firmware links, would show as W) and libsodium's own section for
    it discarded; the SHA-512 libsodium's (its hash_sha512_cp member, SHA512_Transform and
    round constants)."""
    make(target)
    types = symbol_types(nm, REPO / target)
    assert types.get("sc25519_reduce") == {"T"}
    members, discarded, _ = map_parts((REPO / target).with_suffix(".map").read_text())
    assert re.search(r"\.text\.sc25519_reduce\s+0x0+\s+0x[0-9a-f]+ \S*libsodium_la-ed25519_ref10\.o",
                     discarded)
    assert "libsodium_la-hash_sha512_cp.o" in members
    assert types.get("crypto_hash_sha512_final") == {"T"}
    assert "SHA512_Transform" in types and "Krnd" in types


def test_host_module_links_libsodiums_sha512():
    module = next((REPO / "sim" / "openheg_sim").glob("_firmware*.so"))
    types = symbol_types("nm", module)
    assert "SHA512_Transform" in types and "Krnd" in types
