/* One license verification and one attestation signature, through the
 * firmware and through the bare crypto library, on the golden license of
 * tests/vectors/records.json (via the generated heg_test_vectors.h). */
#include "bench_ops.h"

#include <monocypher.h>
#include <sodium.h>
#include <string.h>

#include "heg/heg.h"
#include "heg/heg_crypto.h"
#include "heg_test_vectors.h"

static uint8_t g_msg[HEG_DOMAIN_LICENSE_LEN + HEG_LICENSE_BODY_SIZE];
static uint8_t g_sig[64];
static uint8_t g_signer[32];
static uint8_t g_body[HEG_DOMAIN_ATTESTATION_LEN + HEG_ATTESTATION_BODY_SIZE];
static uint8_t g_pk[32];
static uint8_t g_sk[64];
static uint8_t g_out[64];
static uint8_t g_mono_sk[64];
static heg_license_t g_license;

int heg_bench_setup(void) {
  const heg_license_vector_t *v = &k_license_vectors[0];
  const uint8_t *entry = v->data + HEG_LICENSE_BODY_SIZE + 1u;
  uint8_t seed[32];
  uint8_t mono_pk[32];
  if (v->status != HEG_STATUS_OK) {
    return -1;
  }
  memcpy(g_msg, HEG_DOMAIN_LICENSE, HEG_DOMAIN_LICENSE_LEN);
  memcpy(g_msg + HEG_DOMAIN_LICENSE_LEN, v->data, HEG_LICENSE_BODY_SIZE);
  memcpy(g_signer, entry, 32u);
  memcpy(g_sig, entry + 32u, 64u);
  memset(seed, 0x42, sizeof(seed));
  memcpy(g_body, HEG_DOMAIN_ATTESTATION, HEG_DOMAIN_ATTESTATION_LEN);
  memset(g_body + HEG_DOMAIN_ATTESTATION_LEN, 0x5a, HEG_ATTESTATION_BODY_SIZE);
  if (heg_crypto_ed25519_keypair(seed, g_pk, g_sk) != HEG_STATUS_OK) {
    return -1;
  }
  crypto_eddsa_key_pair(g_mono_sk, mono_pk, seed); /* wipes seed */
  return 0;
}

__attribute__((noinline)) int heg_bench_run(uint32_t mode) {
  const heg_license_vector_t *v = &k_license_vectors[0];
  heg_hbool_t valid = HEG_HFALSE;
  uint8_t msg[HEG_DOMAIN_LICENSE_LEN + HEG_LICENSE_BODY_SIZE];
  switch (mode) {
    case HEG_BENCH_NOTHING:
      return 0;
    case HEG_BENCH_BARE_VERIFY:
      return crypto_sign_verify_detached(g_sig, g_msg, sizeof(g_msg), g_signer);
    case HEG_BENCH_LICENSE_VERIFY:
      /* What the firmware does to a license before any state check: the
       * strict parse, the domain-separated message, the strict verify. */
      if (heg_license_parse(v->data, v->len, &g_license) != HEG_STATUS_OK) {
        return -1;
      }
      memcpy(msg, HEG_DOMAIN_LICENSE, HEG_DOMAIN_LICENSE_LEN);
      memcpy(msg + HEG_DOMAIN_LICENSE_LEN, v->data, HEG_LICENSE_BODY_SIZE);
      if (heg_crypto_ed25519_verify(g_license.signatures[0].signature, msg, sizeof(msg),
                                    g_license.signatures[0].signer, &valid) != HEG_STATUS_OK) {
        return -1;
      }
      return valid == HEG_HTRUE ? 0 : -1;
    case HEG_BENCH_BARE_SIGN:
      return crypto_sign_detached(g_out, 0, g_body, sizeof(g_body), g_sk);
    case HEG_BENCH_ATTEST_SIGN:
      return heg_crypto_ed25519_sign(g_out, g_body, sizeof(g_body), g_sk) == HEG_STATUS_OK ? 0
                                                                                         : -1;
    case HEG_BENCH_MONOCYPHER_SIGN:
      /* The signing library's own sign (EdDSA over Curve25519 with BLAKE2b):
       * the same scalar and base-point work, another hash. */
      crypto_eddsa_sign(g_out, g_mono_sk, g_body, sizeof(g_body));
      return 0;
    default:
      return -1;
  }
}
