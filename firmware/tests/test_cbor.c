/* The CBOR writer (eat.c) against RFC 8949's encodings: every argument in its
 * shortest form at each boundary, negative integers, bignums without leading
 * zeros, and a buffer too small: refused, nothing written past it. */
#include <string.h>

#include "codec.h"
#include "ctest.h"

static size_t written(const heg_cbor_t *w, const uint8_t *buf) { return (size_t)(w->pos - buf); }

static void check_head(ctest_t *t, uint8_t major, uint64_t argument, const char *hex) {
  uint8_t buf[16];
  uint8_t want[9];
  size_t n = strlen(hex) / 2u;
  size_t i;
  heg_cbor_t w;
  for (i = 0; i < n; ++i) {
    unsigned byte = 0;
    sscanf(hex + 2u * i, "%2x", &byte);
    want[i] = (uint8_t)byte;
  }
  heg_cbor_init(&w, buf, sizeof(buf));
  heg_cbor_head(&w, major, argument);
  CHECK(t, w.status == HEG_STATUS_OK && written(&w, buf) == n && memcmp(buf, want, n) == 0,
        "head(%u, %llu) is not %s", (unsigned)major, (unsigned long long)argument, hex);
  /* One byte short: refused, and nothing at all written. */
  memset(buf, 0xEE, sizeof(buf));
  heg_cbor_init(&w, buf, n - 1u);
  heg_cbor_head(&w, major, argument);
  CHECK(t, w.status == HEG_STATUS_RESPONSE_TOO_LARGE && written(&w, buf) == 0u &&
               buf[0] == 0xEEu,
        "head(%u, %llu) written into %zu bytes", (unsigned)major,
        (unsigned long long)argument, n - 1u);
}

static void check_u128(ctest_t *t, uint64_t hi, uint64_t lo, const char *hex) {
  uint8_t buf[24];
  uint8_t want[24];
  size_t n = strlen(hex) / 2u;
  size_t i;
  uint8_t le[HEG_U128_SIZE];
  heg_cbor_t w;
  heg_u128_t v;
  v.hi = hi;
  v.lo = lo;
  heg_store_u128(le, v);
  for (i = 0; i < n; ++i) {
    unsigned byte = 0;
    sscanf(hex + 2u * i, "%2x", &byte);
    want[i] = (uint8_t)byte;
  }
  heg_cbor_init(&w, buf, sizeof(buf));
  heg_cbor_uint_le(&w, le, sizeof(le));
  CHECK(t, w.status == HEG_STATUS_OK && written(&w, buf) == n && memcmp(buf, want, n) == 0,
        "u128 %016llx%016llx is not %s", (unsigned long long)hi, (unsigned long long)lo, hex);
}

void test_cbor(ctest_t *t) {
  uint8_t buf[8];
  heg_cbor_t w;
  check_head(t, HEG_CBOR_UINT, 0u, "00");
  check_head(t, HEG_CBOR_UINT, 23u, "17");
  check_head(t, HEG_CBOR_UINT, 24u, "1818");
  check_head(t, HEG_CBOR_UINT, 255u, "18ff");
  check_head(t, HEG_CBOR_UINT, 256u, "190100");
  check_head(t, HEG_CBOR_UINT, 65535u, "19ffff");
  check_head(t, HEG_CBOR_UINT, 65536u, "1a00010000");
  check_head(t, HEG_CBOR_UINT, 0xffffffffu, "1affffffff");
  check_head(t, HEG_CBOR_UINT, 0x100000000u, "1b0000000100000000");
  check_head(t, HEG_CBOR_UINT, UINT64_MAX, "1bffffffffffffffff");
  check_head(t, HEG_CBOR_NEGATIVE, 0u, "20");          /* -1 */
  check_head(t, HEG_CBOR_NEGATIVE, 65536u, "3a00010000"); /* -65537 */
  check_head(t, HEG_CBOR_NEGATIVE, UINT64_MAX, "3bffffffffffffffff"); /* -2^64 */
  check_head(t, HEG_CBOR_MAP, 24u, "b818");
  check_head(t, HEG_CBOR_TAG, 18u, "d2");
  check_u128(t, 0u, 0u, "00");
  check_u128(t, 0u, 23u, "17");
  check_u128(t, 0u, 0x100000000u, "1b0000000100000000");
  check_u128(t, 0u, UINT64_MAX, "1bffffffffffffffff");
  check_u128(t, 1u, 0u, "c249010000000000000000");  /* 2^64: tag 2, 9 bytes */
  check_u128(t, 0x0100u, 0x01u, "c24a01000000000000000001");
  check_u128(t, UINT64_MAX, UINT64_MAX, "c250ffffffffffffffffffffffffffffffff");

  /* A string that does not fit writes neither its head nor its bytes, and
   * every later write is refused too (the status sticks). */
  memset(buf, 0xEE, sizeof(buf));
  heg_cbor_init(&w, buf, 4u);
  heg_cbor_string(&w, HEG_CBOR_BYTES, (const uint8_t *)"abcd", 4u);
  CHECK(t, w.status == HEG_STATUS_RESPONSE_TOO_LARGE && written(&w, buf) == 1u,
        "a 5-byte string in 4 bytes: status 0x%04x, %zu written", (unsigned)w.status,
        written(&w, buf));
  heg_cbor_head(&w, HEG_CBOR_UINT, 1u);
  CHECK(t, w.status == HEG_STATUS_RESPONSE_TOO_LARGE && written(&w, buf) == 1u &&
               buf[4] == 0xEEu,
        "a write after a refused one went through");
  memset(buf, 0xEE, sizeof(buf));
  heg_cbor_init(&w, buf, 0u);
  heg_cbor_uint_le(&w, (const uint8_t *)"\0", 1u);
  CHECK(t, w.status == HEG_STATUS_RESPONSE_TOO_LARGE && buf[0] == 0xEEu,
        "a write into no room went through");
}
