/* Crypto port backed by libsodium (pinned, fetched by firmware/firmware.mk). */
#include <sodium.h>

#include "heg/heg_crypto.h"
#include "internal.h"

HEG_STATIC_ASSERT(sizeof(crypto_hash_sha256_state) <= sizeof(heg_sha256_t), sha256_state_fits);

heg_status_t heg_crypto_ed25519_keypair(const uint8_t seed[32], uint8_t pk[32], uint8_t sk[64]) {
  if (seed == NULL || pk == NULL || sk == NULL) {
    return HEG_STATUS_BAD_REQUEST;
  }
  if (crypto_sign_ed25519_seed_keypair(pk, sk, seed) != 0) {
    return HEG_STATUS_CRYPTO;
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_crypto_ed25519_sign(uint8_t sig[64], const uint8_t *msg, size_t msg_len,
                                     const uint8_t sk[64]) {
  if (sig == NULL || (msg == NULL && msg_len != 0) || sk == NULL) {
    return HEG_STATUS_BAD_REQUEST;
  }
  if (crypto_sign_ed25519_detached(sig, NULL, msg, (unsigned long long)msg_len, sk) != 0) {
    return HEG_STATUS_CRYPTO;
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_crypto_ed25519_verify(const uint8_t sig[64], const uint8_t *msg, size_t msg_len,
                                       const uint8_t pk[32], heg_hbool_t *valid) {
  heg_hbool_t verdict = HEG_HFALSE;
  if (valid == NULL) {
    return HEG_STATUS_BAD_REQUEST;
  }
  *valid = HEG_HFALSE;
  if (sig == NULL || (msg == NULL && msg_len != 0) || pk == NULL) {
    return HEG_STATUS_BAD_REQUEST;
  }
  if (crypto_sign_ed25519_verify_detached(sig, msg, (unsigned long long)msg_len, pk) == 0) {
    verdict = HEG_HTRUE;
  }
  *valid = verdict;
  return HEG_STATUS_OK;
}

heg_status_t heg_crypto_sha256(uint8_t out[32], const uint8_t *msg, size_t msg_len) {
  if (out == NULL || (msg == NULL && msg_len != 0)) {
    return HEG_STATUS_BAD_REQUEST;
  }
  if (crypto_hash_sha256(out, msg, (unsigned long long)msg_len) != 0) {
    return HEG_STATUS_CRYPTO;
  }
  return HEG_STATUS_OK;
}

static crypto_hash_sha256_state *sha256_state(heg_sha256_t *state) {
  return (crypto_hash_sha256_state *)(void *)state->opaque;
}

heg_status_t heg_crypto_sha256_init(heg_sha256_t *state) {
  if (state == NULL) {
    return HEG_STATUS_BAD_REQUEST;
  }
  if (crypto_hash_sha256_init(sha256_state(state)) != 0) {
    return HEG_STATUS_CRYPTO;
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_crypto_sha256_update(heg_sha256_t *state, const uint8_t *msg, size_t msg_len) {
  if (state == NULL || (msg == NULL && msg_len != 0)) {
    return HEG_STATUS_BAD_REQUEST;
  }
  if (crypto_hash_sha256_update(sha256_state(state), msg, (unsigned long long)msg_len) != 0) {
    return HEG_STATUS_CRYPTO;
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_crypto_sha256_final(heg_sha256_t *state, uint8_t out[32]) {
  heg_status_t status = HEG_STATUS_OK;
  if (state == NULL || out == NULL) {
    return HEG_STATUS_BAD_REQUEST;
  }
  if (crypto_hash_sha256_final(sha256_state(state), out) != 0) {
    status = HEG_STATUS_CRYPTO;
  }
  sodium_memzero(state, sizeof(*state));
  return status;
}

void heg_crypto_wipe(void *buf, size_t len) {
  if (buf != NULL) {
    sodium_memzero(buf, len);
  }
}
