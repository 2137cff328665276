/* The crypto port: two audited libraries, both pinned and fetched by
 * firmware/firmware.mk, never copied into the repository.
 *
 * - Verification and hashing (SHA-512, also for the 32-byte digest): libsodium. Its crypto_sign_verify_detached
 *   applies the strict rules of DESIGN.md (canonical S, A and R; no
 *   small-order A or R), the same verdicts as PyNaCl on the host.
 * - Key generation and signing: Ed25519 as RFC 8032 section 5.1.5/5.1.6
 *   defines it, composed of Monocypher's constant-time scalar and base-point
 *   operations and libsodium's SHA-512 (the composition Monocypher's own
 *   optional Ed25519 file makes). Ed25519 signatures are deterministic, so
 *   tests require these keys and signatures to equal libsodium's byte for
 *   byte.
 *
 * Why two curve implementations, when one would save flash (issue 10; the
 * Cortex-M4 numbers, measured):
 * - Monocypher cannot verify: crypto_eddsa_check_equation is cofactored
 *   ([8](SB - hA - R) = 0), libsodium's is cofactorless (SB - hA encodes to
 *   R's bytes). With libsodium's canonical-encoding and small-order rules in
 *   front of it, it still accepts the 63 CCTV vectors flagged
 *   low_order_residue (mixed-order A or R) that libsodium rejects, and
 *   refusing every point with a low-order component instead would refuse 42
 *   that libsodium accepts. Monocypher exposes no point arithmetic to close
 *   the difference.
 * - libsodium cannot sign in the RAM budget: its crypto_sign_detached's
 *   base-point table alone is 30 KB; without the table
 *   (crypto_scalarmult_ed25519_noclamp for [r]B) the image would fit the
 *   flash target (47,216 bytes), but its ge25519_scalarmult takes a
 *   4,048-byte stack frame: the QEMU session's stack high-water mark goes
 *   from 4,144 to 5,432 bytes, which with data and bss is over the 8 KiB of
 *   RAM, and an attestation signature from 0.71 M to 2.52 M instructions.
 * Monocypher's comb tables are about 2 KB, its signing about 7.6 KB of flash.
 */
#include <monocypher.h>
#include <sodium.h>
#include <string.h>

#include "heg/heg_crypto.h"
#include "internal.h"

HEG_STATIC_ASSERT(sizeof(crypto_hash_sha512_state) <= sizeof(heg_digest_t), digest_state_fits);

/* SHA-512(a || b || c), reduced modulo the group order L. */
static heg_status_t hash_reduce(uint8_t out[32], const uint8_t *a, size_t a_len, const uint8_t *b,
                                size_t b_len, const uint8_t *c, size_t c_len) {
  crypto_hash_sha512_state state;
  uint8_t digest[64];
  heg_status_t status = HEG_STATUS_CRYPTO;
  if (crypto_hash_sha512_init(&state) == 0 &&
      crypto_hash_sha512_update(&state, a, (unsigned long long)a_len) == 0 &&
      crypto_hash_sha512_update(&state, b, (unsigned long long)b_len) == 0 &&
      crypto_hash_sha512_update(&state, c, (unsigned long long)c_len) == 0 &&
      crypto_hash_sha512_final(&state, digest) == 0) {
    crypto_eddsa_reduce(out, digest);
    status = HEG_STATUS_OK;
  }
  sodium_memzero(&state, sizeof(state));
  sodium_memzero(digest, sizeof(digest));
  return status;
}

/* RFC 8032 5.1.5: h = SHA-512(seed); the secret scalar s is h[0..31] with
 * its bits fixed as the RFC says ("pruned"); h[32..63] is the nonce prefix. */
static heg_status_t expand_seed(uint8_t expanded[64], const uint8_t seed[32]) {
  if (crypto_hash_sha512(expanded, seed, 32u) != 0) {
    return HEG_STATUS_CRYPTO;
  }
  crypto_eddsa_trim_scalar(expanded, expanded);
  return HEG_STATUS_OK;
}

heg_status_t heg_crypto_ed25519_keypair(const uint8_t seed[32], uint8_t pk[32], uint8_t sk[64]) {
  uint8_t expanded[64];
  heg_status_t status;
  if (seed == NULL || pk == NULL || sk == NULL) {
    return HEG_STATUS_BAD_REQUEST;
  }
  status = expand_seed(expanded, seed);
  if (status == HEG_STATUS_OK) {
    /* A = [s]B; the secret key is seed || A, as in libsodium and RFC 8032. */
    crypto_eddsa_scalarbase(pk, expanded);
    memmove(sk, seed, 32u);
    memcpy(sk + 32, pk, 32u);
  }
  sodium_memzero(expanded, sizeof(expanded));
  return status;
}

heg_status_t heg_crypto_ed25519_sign(uint8_t sig[64], const uint8_t *msg, size_t msg_len,
                                     const uint8_t sk[64]) {
  uint8_t expanded[64]; /* secret scalar s, then the nonce prefix */
  uint8_t r[32];        /* secret nonce */
  uint8_t big_r[32];    /* R = [r]B, the signature's first half */
  uint8_t k[32];        /* k = SHA-512(R || A || M) mod L, public */
  heg_status_t status;
  if (sig == NULL || (msg == NULL && msg_len != 0) || sk == NULL) {
    return HEG_STATUS_BAD_REQUEST;
  }
  /* RFC 8032 5.1.6, steps 1-3: r = SHA-512(prefix || M) mod L, R = [r]B,
   * k = SHA-512(R || A || M) mod L, S = (r + k * s) mod L. A is sk[32..63]. */
  status = expand_seed(expanded, sk);
  if (status == HEG_STATUS_OK) {
    status = hash_reduce(r, expanded + 32, 32u, msg, msg_len, NULL, 0u);
  }
  if (status == HEG_STATUS_OK) {
    crypto_eddsa_scalarbase(big_r, r);
    status = hash_reduce(k, big_r, 32u, sk + 32, 32u, msg, msg_len);
  }
  if (status == HEG_STATUS_OK) {
    memcpy(sig, big_r, 32u);
    crypto_eddsa_mul_add(sig + 32, k, expanded, r);
  }
  sodium_memzero(expanded, sizeof(expanded));
  sodium_memzero(r, sizeof(r));
  return status;
}

heg_status_t heg_crypto_ed25519_verify(const uint8_t sig[64], const uint8_t *msg, size_t msg_len,
                                       const uint8_t pk[32], heg_hbool_t *valid) {
  heg_hbool_t verdict = HEG_HFALSE;
  volatile int answer = -1; /* refusing until the library's answer is stored */
  if (valid == NULL) {
    return HEG_STATUS_BAD_REQUEST;
  }
  *valid = HEG_HFALSE;
  if (sig == NULL || (msg == NULL && msg_len != 0) || pk == NULL) {
    return HEG_STATUS_BAD_REQUEST;
  }
  /* The verdict is computed once (hardened.h, step 4), and its answer read
   * twice, each read able to refuse alone: one skipped or flipped
   * instruction cannot turn the library's -1 into HEG_HTRUE. */
  answer = crypto_sign_ed25519_verify_detached(sig, msg, (unsigned long long)msg_len, pk);
  if (answer == 0) {
    HEG_HARDENED_BARRIER();
    if (answer == 0) {
      verdict = HEG_HTRUE;
    }
  }
  *valid = verdict;
  return HEG_STATUS_OK;
}

heg_status_t heg_crypto_digest(uint8_t out[32], const uint8_t *msg, size_t msg_len) {
  heg_digest_t state;
  HEG_TRY(heg_crypto_digest_init(&state));
  HEG_TRY(heg_crypto_digest_update(&state, msg, msg_len));
  return heg_crypto_digest_final(&state, out);
}

static crypto_hash_sha512_state *sha512_state(heg_digest_t *state) {
  return (crypto_hash_sha512_state *)(void *)state->opaque;
}

heg_status_t heg_crypto_digest_init(heg_digest_t *state) {
  if (state == NULL) {
    return HEG_STATUS_BAD_REQUEST;
  }
  if (crypto_hash_sha512_init(sha512_state(state)) != 0) {
    return HEG_STATUS_CRYPTO;
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_crypto_digest_update(heg_digest_t *state, const uint8_t *msg, size_t msg_len) {
  if (state == NULL || (msg == NULL && msg_len != 0)) {
    return HEG_STATUS_BAD_REQUEST;
  }
  if (crypto_hash_sha512_update(sha512_state(state), msg, (unsigned long long)msg_len) != 0) {
    return HEG_STATUS_CRYPTO;
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_crypto_digest_final(heg_digest_t *state, uint8_t out[32]) {
  uint8_t full[64];
  heg_status_t status = HEG_STATUS_CRYPTO;
  if (state == NULL || out == NULL) {
    return HEG_STATUS_BAD_REQUEST;
  }
  if (crypto_hash_sha512_final(sha512_state(state), full) == 0) {
    memcpy(out, full, 32u); /* the first 32 bytes (heg_crypto.h) */
    status = HEG_STATUS_OK;
  }
  /* The state needs no wipe here: libsodium's final wipes it. A second wipe
   * through a saved copy of the pointer was a fault site: with the copy
   * skipped, the wipe zeroed whatever a stale register pointed at (the
   * policy in force, in docs/fault.md's campaign). */
  sodium_memzero(full, sizeof(full));
  return status;
}

void heg_crypto_wipe(void *buf, size_t len) {
  if (buf != NULL) {
    sodium_memzero(buf, len);
  }
}
