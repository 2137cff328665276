/* ATTEST_EAT: the attestation as an Entity Attestation Token (RFC 9711), a
 * CWT signed as COSE_Sign1 (RFC 9052) with EdDSA by the device key. The
 * profile (docs/eat.md) maps every field of the binary attestation to a
 * claim and carries the binary record's own signature, so a verifier that
 * rebuilds the record from the claims appraises exactly what ATTEST would
 * have given it. The report itself is made by heg_attest_sign: same nonce,
 * same report counter, same rules.
 *
 * Work area (the response buffer, HEG_EAT_WORK_SIZE bytes): the binary
 * attestation is made at its end; the claims are encoded from the front,
 * each field copied out of the record, and the writer's end is kept at the
 * first record byte not yet copied, so it can never overwrite what it has
 * still to read (a write that would is refused, not made). The claims start
 * after room for the Sig_structure's head; once signed, the token's shorter
 * head takes its place and the payload moves down. */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

/* Claim keys (RFC 9711, RFC 8392) and the profile's own, the private keys
 * -65537 - i for entry i of k_claims. */
#define HEG_EAT_KEY_NONCE 10u
#define HEG_EAT_KEY_UEID 256u
#define HEG_EAT_KEY_PROFILE 265u
#define HEG_EAT_PRIVATE_BASE 65536u /* -65537 is CBOR negative argument 65536 */
#define HEG_EAT_UEID_TYPE_RAND 0x01u
#define HEG_EAT_PROFILE "tag:openheg.org,2026:eat/v1"

/* How a record field becomes a claim value. */
#define HEG_EAT_FIELD_BYTES 0u /* a byte string, as in the record */
#define HEG_EAT_FIELD_UINT 1u  /* a little-endian integer of len bytes (1 to 16) */
#define HEG_EAT_FIELD_LANES 2u /* an array of the u128 lane counters */

typedef struct {
  uint16_t off; /* in body || signature */
  uint8_t len;
  uint8_t kind;
} heg_eat_claim_t;

/* In record order (so the writer's end only moves up) and in key order
 * (deterministic encoding sorts the private keys by magnitude). */
static const heg_eat_claim_t k_claims[] = {
    {HEG_ATTESTATION_FIRMWARE_MEASUREMENT_OFF, HEG_DIGEST_SIZE, HEG_EAT_FIELD_BYTES},
    {HEG_ATTESTATION_POLICY_VERSION_OFF, 4u, HEG_EAT_FIELD_UINT},
    {HEG_ATTESTATION_LICENSE_ID_OFF, HEG_ID_SIZE, HEG_EAT_FIELD_BYTES},
    {HEG_ATTESTATION_LICENSE_SEQUENCE_OFF, 8u, HEG_EAT_FIELD_UINT},
    {HEG_ATTESTATION_LANE_OPS_OFF, HEG_ATTESTATION_LANE_OPS_LEN, HEG_EAT_FIELD_LANES},
    {HEG_ATTESTATION_CONSUMED_MSFLOP_OFF, HEG_U128_SIZE, HEG_EAT_FIELD_UINT},
    {HEG_ATTESTATION_REMAINING_MSFLOP_OFF, HEG_U128_SIZE, HEG_EAT_FIELD_UINT},
    {HEG_ATTESTATION_GATE_STATE_OFF, 1u, HEG_EAT_FIELD_UINT},
    {HEG_ATTESTATION_GATE_CAUSES_OFF, 4u, HEG_EAT_FIELD_UINT},
    {HEG_ATTESTATION_REPORT_COUNTER_OFF, 8u, HEG_EAT_FIELD_UINT},
    {HEG_ATTESTATION_RESET_COUNT_OFF, 4u, HEG_EAT_FIELD_UINT},
    {HEG_ATTESTATION_LOG_HEAD_OFF, HEG_DIGEST_SIZE, HEG_EAT_FIELD_BYTES},
    {HEG_ATTESTATION_OVERSIGHT_RESERVED_MSFLOP_OFF, HEG_U128_SIZE, HEG_EAT_FIELD_UINT},
    {HEG_ATTESTATION_INSPECTOR_ORDER_SEQUENCE_OFF, 8u, HEG_EAT_FIELD_UINT},
    {HEG_ATTESTATION_BOARD_ORDER_SEQUENCE_OFF, 8u, HEG_EAT_FIELD_UINT},
    {HEG_ATTESTATION_ISSUER_ORDER_SEQUENCE_OFF, 8u, HEG_EAT_FIELD_UINT},
    {HEG_ATTESTATION_STORE_REVERTS_OFF, 4u, HEG_EAT_FIELD_UINT},
    {HEG_ATTESTATION_POLICY_DIGEST_OFF, HEG_DIGEST_SIZE, HEG_EAT_FIELD_BYTES},
    {HEG_ATTESTATION_WORKLOAD_MSFLOP_OFF, HEG_U128_SIZE, HEG_EAT_FIELD_UINT},
    {HEG_ATTESTATION_RETIRED_MSFLOP_OFF, HEG_U128_SIZE, HEG_EAT_FIELD_UINT},
    {HEG_ATTESTATION_LINK_CLOCK_HZ_OFF, 4u, HEG_EAT_FIELD_UINT},
    {HEG_ATTESTATION_LINK_RATE_OFF, 4u, HEG_EAT_FIELD_UINT},
    {HEG_ATTESTATION_LINK_BURST_OFF, 4u, HEG_EAT_FIELD_UINT},
    {HEG_ATTESTATION_LINK_WIRE_BYTES_OFF, 8u, HEG_EAT_FIELD_UINT},
    {HEG_ATTESTATION_BODY_SIZE, HEG_SIGNATURE_SIZE, HEG_EAT_FIELD_BYTES},
};
#define HEG_EAT_PRIVATE_CLAIMS (sizeof(k_claims) / sizeof(k_claims[0]))
#define HEG_EAT_CLAIMS (3u + HEG_EAT_PRIVATE_CLAIMS)
/* Every body field but the header, device id and nonce (ueid, eat_nonce) is
 * a private claim, and the signature one more. */
HEG_STATIC_ASSERT(HEG_ATTESTATION_FIRMWARE_MEASUREMENT_OFF ==
                          HEG_ATTESTATION_NONCE_OFF + HEG_NONCE_SIZE &&
                      HEG_ATTESTATION_NONCE_OFF == HEG_ATTESTATION_DEVICE_ID_OFF + HEG_KEY_SIZE,
                  claims_cover_the_body);

/* Sig_structure = ["Signature1", protected, external_aad h'', payload] and
 * COSE_Sign1 = 18([protected, unprotected {}, payload, signature]), with
 * protected = bstr({1: -8}) (alg: EdDSA). Each is followed by the payload's
 * byte-string head. */
static const uint8_t k_sig_structure_head[] = {0x84u, 0x6au, 'S', 'i', 'g', 'n', 'a', 't',
                                               'u',   'r',   'e', '1', 0x43u, 0xa1u, 0x01u,
                                               0x27u, 0x40u};
static const uint8_t k_sign1_head[] = {0xd2u, 0x84u, 0x43u, 0xa1u, 0x01u, 0x27u, 0xa0u};
/* The payload is always 256 to 65535 bytes (the fixed-size claims alone are
 * over 256): its byte-string head is 3 bytes (0x59, length). */
#define HEG_EAT_PAYLOAD_HEAD 3u
#define HEG_EAT_PAYLOAD_OFF (sizeof(k_sig_structure_head) + HEG_EAT_PAYLOAD_HEAD)

void heg_cbor_init(heg_cbor_t *w, uint8_t *buf, size_t cap) {
  w->pos = buf;
  w->end = buf + cap;
  w->status = HEG_STATUS_OK;
}

void heg_cbor_raw(heg_cbor_t *w, const uint8_t *data, size_t len) {
  if (w->status != HEG_STATUS_OK || (size_t)(w->end - w->pos) < len) {
    w->status = HEG_STATUS_RESPONSE_TOO_LARGE;
    return;
  }
  memmove(w->pos, data, len);
  w->pos += len;
}

void heg_cbor_head(heg_cbor_t *w, uint8_t major, uint64_t argument) {
  uint8_t head[9];
  uint32_t info = 24u; /* 24, 25, 26, 27: a 1, 2, 4 or 8-byte argument follows */
  size_t size = 1u;
  size_t i;
  if (argument < 24u) {
    head[0] = (uint8_t)(((uint32_t)major << 5) | (uint32_t)argument);
    heg_cbor_raw(w, head, 1u);
    return;
  }
  while (size < 8u && (argument >> (8u * size)) != 0u) {
    size *= 2u;
    info += 1u;
  }
  head[0] = (uint8_t)(((uint32_t)major << 5) | info);
  for (i = 0; i < size; ++i) { /* big-endian */
    head[size - i] = (uint8_t)(argument >> (8u * i));
  }
  heg_cbor_raw(w, head, size + 1u);
}

void heg_cbor_string(heg_cbor_t *w, uint8_t major, const uint8_t *data, size_t len) {
  heg_cbor_head(w, major, len);
  heg_cbor_raw(w, data, len);
}

void heg_cbor_uint_le(heg_cbor_t *w, const uint8_t *le, size_t len) {
  uint8_t big[HEG_U128_SIZE];
  uint64_t value = 0;
  size_t n = len;
  size_t i;
  while (n > 0u && le[n - 1u] == 0u) { /* the significant bytes */
    --n;
  }
  if (n <= 8u) {
    for (i = n; i > 0u; --i) {
      value = (value << 8) | le[i - 1u];
    }
    heg_cbor_head(w, HEG_CBOR_UINT, value);
    return;
  }
  for (i = 0; i < n; ++i) {
    big[i] = le[n - 1u - i];
  }
  heg_cbor_head(w, HEG_CBOR_TAG, 2u); /* unsigned bignum, big-endian, no leading zero */
  heg_cbor_string(w, HEG_CBOR_BYTES, big, n);
}

/* The claims of the attestation at record (body || signature). */
static void put_claims(heg_cbor_t *w, uint8_t *record) {
  static const uint8_t profile[] = HEG_EAT_PROFILE;
  const heg_eat_claim_t *claim;
  uint8_t ueid_type = HEG_EAT_UEID_TYPE_RAND;
  size_t i;
  size_t lane;

  w->end = record + HEG_ATTESTATION_DEVICE_ID_OFF;
  heg_cbor_head(w, HEG_CBOR_MAP, HEG_EAT_CLAIMS);
  heg_cbor_head(w, HEG_CBOR_UINT, HEG_EAT_KEY_NONCE);
  heg_cbor_string(w, HEG_CBOR_BYTES, record + HEG_ATTESTATION_NONCE_OFF, HEG_NONCE_SIZE);
  /* ueid: type RAND, then the device id (a key made from the device's own
   * randomness at provisioning, unique to it). */
  heg_cbor_head(w, HEG_CBOR_UINT, HEG_EAT_KEY_UEID);
  heg_cbor_head(w, HEG_CBOR_BYTES, 1u + HEG_KEY_SIZE);
  heg_cbor_raw(w, &ueid_type, 1u);
  heg_cbor_raw(w, record + HEG_ATTESTATION_DEVICE_ID_OFF, HEG_KEY_SIZE);
  heg_cbor_head(w, HEG_CBOR_UINT, HEG_EAT_KEY_PROFILE);
  heg_cbor_string(w, HEG_CBOR_TEXT, profile, sizeof(profile) - 1u);
  for (i = 0; i < HEG_EAT_PRIVATE_CLAIMS; ++i) {
    claim = &k_claims[i];
    w->end = record + claim->off;
    heg_cbor_head(w, HEG_CBOR_NEGATIVE, HEG_EAT_PRIVATE_BASE + i);
    if (claim->kind == HEG_EAT_FIELD_BYTES) {
      heg_cbor_string(w, HEG_CBOR_BYTES, record + claim->off, claim->len);
    } else if (claim->kind == HEG_EAT_FIELD_UINT) {
      heg_cbor_uint_le(w, record + claim->off, claim->len);
    } else {
      heg_cbor_head(w, HEG_CBOR_ARRAY, HEG_LANES);
      for (lane = 0; lane < HEG_LANES; ++lane) {
        heg_cbor_uint_le(w, record + claim->off + lane * HEG_U128_SIZE, HEG_U128_SIZE);
      }
    }
  }
}

heg_status_t heg_cmd_attest_eat(heg_ctx_t *ctx, const uint8_t *payload, size_t len, uint8_t *out,
                                size_t cap, size_t *out_len) {
  uint8_t *record;
  uint8_t sig[HEG_SIGNATURE_SIZE];
  heg_cbor_t w;
  size_t claims_len;

  *out_len = 0;
  HEG_TRY(heg_attest_check_request(ctx, len));
  if (cap < HEG_EAT_WORK_SIZE) {
    return HEG_STATUS_BAD_REQUEST;
  }
  record = out + cap - HEG_ATTESTATION_SIZE;
  HEG_TRY(heg_attest_sign(ctx, payload + HEG_ATTEST_REQ_NONCE_OFF, record));

  heg_cbor_init(&w, out + HEG_EAT_PAYLOAD_OFF, (size_t)(record - out) - HEG_EAT_PAYLOAD_OFF);
  put_claims(&w, record);
  HEG_TRY(w.status);
  claims_len = (size_t)(w.pos - (out + HEG_EAT_PAYLOAD_OFF));
  if (claims_len < 256u || claims_len > 0xffffu) {
    return HEG_STATUS_FAULT_DETECTED; /* the fixed head size above does not hold */
  }

  heg_cbor_init(&w, out, HEG_EAT_PAYLOAD_OFF);
  heg_cbor_raw(&w, k_sig_structure_head, sizeof(k_sig_structure_head));
  heg_cbor_head(&w, HEG_CBOR_BYTES, claims_len);
  HEG_TRY(w.status);
  HEG_TRY(heg_crypto_ed25519_sign(sig, out, HEG_EAT_PAYLOAD_OFF + claims_len, ctx->device_sk));

  heg_cbor_init(&w, out, cap);
  heg_cbor_raw(&w, k_sign1_head, sizeof(k_sign1_head));
  heg_cbor_head(&w, HEG_CBOR_BYTES, claims_len);
  heg_cbor_raw(&w, out + HEG_EAT_PAYLOAD_OFF, claims_len); /* moves down: memmove */
  heg_cbor_string(&w, HEG_CBOR_BYTES, sig, HEG_SIGNATURE_SIZE);
  HEG_TRY(w.status);
  *out_len = (size_t)(w.pos - out);
  return HEG_STATUS_OK;
}
