/* Two of libsodium's functions, defined here on smaller code for flash
 * (issue 10): the linker binds libsodium's Ed25519 verify to these, and
 * libsodium's own are not linked (firmware/firmware.mk says how).
 *
 * - SHA-512: libsodium's unrolls its 80 rounds (9 KB of RV32 code, whose
 *   64-bit arithmetic costs two instructions for one); LibTomCrypt's, as
 *   ed25519-orlp ships it, loops over them. Both are plain FIPS 180-4; the
 *   tests hold this one to the NIST vectors and to hashlib.
 * - sc25519_reduce: libsodium's 21-bit-limb reduction (5.7 KB on RV32) is
 *   replaced by Monocypher's crypto_eddsa_reduce, which the signing side
 *   links anyway.
 *
 * LibTomCrypt's state is kept in the caller's crypto_hash_sha512_state
 * (libsodium's verify declares one on its stack; crypto_port.c one in
 * heg_digest_t), which it fits in size and alignment. One difference stays:
 * libsodium wipes its message schedule after each call, LibTomCrypt's
 * compression leaves its W[80] and working state in its dead stack frame
 * (after hashing a seed, enough to recover the digest) until later calls
 * overwrite it. Burning that stack here would take about 0.8 KB more of it
 * while hashing, on a Cortex-M4 image whose RAM is all of its 8 KiB: not
 * done without measuring the stack it would need. */
#include <monocypher.h>
#include <sha512.h>
#include <sodium.h>
#include <stddef.h>

#include "hardened.h"
#include "sodium_port.h"

struct heg_sodium_state_align {
  char c;
  crypto_hash_sha512_state state;
};
struct heg_tomcrypt_state_align {
  char c;
  sha512_context state;
};
HEG_STATIC_ASSERT(sizeof(sha512_context) <= sizeof(crypto_hash_sha512_state), sha512_state_fits);
/* Alignments are powers of two: the larger is a multiple of the smaller. */
HEG_STATIC_ASSERT(offsetof(struct heg_tomcrypt_state_align, state) <=
                      offsetof(struct heg_sodium_state_align, state),
                  sha512_state_aligned);

static sha512_context *tomcrypt(crypto_hash_sha512_state *state) {
  return (sha512_context *)(void *)state;
}

int crypto_hash_sha512_init(crypto_hash_sha512_state *state) {
  return sha512_init(tomcrypt(state)) == 0 ? 0 : -1;
}

int crypto_hash_sha512_update(crypto_hash_sha512_state *state, const unsigned char *in,
                              unsigned long long inlen) {
  size_t len = (size_t)inlen;
  if (len != inlen) {
    return -1; /* longer than memory can be: not a buffer */
  }
  /* LibTomCrypt refuses a NULL input even when it is empty; libsodium's
   * callers pass one for an empty message. */
  if (len == 0u) {
    return 0;
  }
  return sha512_update(tomcrypt(state), in, len) == 0 ? 0 : -1;
}

int crypto_hash_sha512_final(crypto_hash_sha512_state *state, unsigned char *out) {
  int status = sha512_final(tomcrypt(state), out) == 0 ? 0 : -1;
  /* libsodium's final wipes the state, and crypto_port.c counts on it;
   * LibTomCrypt's does not. */
  sodium_memzero(state, sizeof(*state));
  return status;
}

int crypto_hash_sha512(unsigned char *out, const unsigned char *in, unsigned long long inlen) {
  crypto_hash_sha512_state state;
  if (crypto_hash_sha512_init(&state) == 0 && crypto_hash_sha512_update(&state, in, inlen) == 0) {
    return crypto_hash_sha512_final(&state, out);
  }
  sodium_memzero(&state, sizeof(state));
  return -1;
}

/* Monocypher reads all 64 bytes before it writes the 32 of the result, so
 * the reduction can be done in place. */
void sc25519_reduce(unsigned char s[64]) { crypto_eddsa_reduce(s, s); }
