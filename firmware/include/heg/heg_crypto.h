/* The firmware's crypto port: the only way firmware code reaches crypto.
 * Backed by libsodium and Monocypher (firmware/src/crypto_port.c says which
 * does what); never hand-written. */
#ifndef HEG_CRYPTO_H
#define HEG_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "heg/heg_hardened.h"
#include "heg/heg_wire.h"

/* Derives an Ed25519 key pair from a 32-byte seed. sk is secret: wipe it. */
HEG_MUST_USE heg_status_t heg_crypto_ed25519_keypair(const uint8_t seed[32], uint8_t pk[32],
                                                     uint8_t sk[64]);

/* Detached Ed25519 signature of msg under sk (from heg_crypto_ed25519_keypair). */
HEG_MUST_USE heg_status_t heg_crypto_ed25519_sign(uint8_t sig[64], const uint8_t *msg,
                                                  size_t msg_len, const uint8_t sk[64]);

/* Strict Ed25519 verification (libsodium's rules: canonical S, A and R; no
 * small-order A or R). *valid is HEG_HTRUE or HEG_HFALSE; the status is OK
 * whenever the arguments are usable, whatever the verdict. */
HEG_MUST_USE heg_status_t heg_crypto_ed25519_verify(const uint8_t sig[64], const uint8_t *msg,
                                                    size_t msg_len, const uint8_t pk[32],
                                                    heg_hbool_t *valid);

/* The firmware's 32-byte digest (event-log chain, storage records): the
 * first 32 bytes of SHA-512 (FIPS 180-4). SHA-512 because Ed25519 needs it
 * anyway: a second hash function would cost flash (libsodium's SHA-256 is
 * 2.8 KB on the Cortex-M4) for nothing. The host computes the same
 * (openheg.series.chain_head). */
HEG_MUST_USE heg_status_t heg_crypto_digest(uint8_t out[32], const uint8_t *msg, size_t msg_len);

/* The same digest, incrementally, for data that is never whole in RAM (a
 * record streamed from flash). The state is opaque; its size is checked
 * against the crypto library's when the port is compiled. */
typedef struct {
  uint64_t opaque[26];
} heg_digest_t;

HEG_MUST_USE heg_status_t heg_crypto_digest_init(heg_digest_t *state);
HEG_MUST_USE heg_status_t heg_crypto_digest_update(heg_digest_t *state, const uint8_t *msg,
                                                   size_t msg_len);
/* Writes the digest and wipes the state. */
HEG_MUST_USE heg_status_t heg_crypto_digest_final(heg_digest_t *state, uint8_t out[32]);

/* Zeroes len bytes in a way the compiler cannot elide. */
void heg_crypto_wipe(void *buf, size_t len);

#endif /* HEG_CRYPTO_H */
