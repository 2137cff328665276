#include <string.h>

#include "codec.h"
#include "hardened.h"

uint16_t heg_load_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

uint32_t heg_load_u32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint64_t heg_load_u64(const uint8_t *p) {
  return (uint64_t)heg_load_u32(p) | ((uint64_t)heg_load_u32(p + 4) << 32);
}

heg_u128_t heg_load_u128(const uint8_t *p) {
  heg_u128_t v;
  v.lo = heg_load_u64(p);
  v.hi = heg_load_u64(p + 8);
  return v;
}

void heg_store_u16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v & 0xffu);
  p[1] = (uint8_t)(v >> 8);
}

void heg_store_u32(uint8_t *p, uint32_t v) {
  size_t i;
  for (i = 0; i < 4; ++i) {
    p[i] = (uint8_t)((v >> (8 * i)) & 0xffu);
  }
}

void heg_store_u64(uint8_t *p, uint64_t v) {
  heg_store_u32(p, (uint32_t)(v & 0xffffffffu));
  heg_store_u32(p + 4, (uint32_t)(v >> 32));
}

void heg_store_u128(uint8_t *p, heg_u128_t v) {
  heg_store_u64(p, v.lo);
  heg_store_u64(p + 8, v.hi);
}

heg_u128_t heg_u128_zero(void) {
  heg_u128_t v;
  v.lo = 0;
  v.hi = 0;
  return v;
}

int heg_u128_is_zero(heg_u128_t a) { return a.lo == 0 && a.hi == 0; }

int heg_u128_cmp(heg_u128_t a, heg_u128_t b) {
  if (a.hi != b.hi) {
    return a.hi < b.hi ? -1 : 1;
  }
  if (a.lo != b.lo) {
    return a.lo < b.lo ? -1 : 1;
  }
  return 0;
}

heg_u128_t heg_u128_add(heg_u128_t a, heg_u128_t b) {
  heg_u128_t r;
  uint64_t carry;
  uint64_t hi;
  int overflow;
  r.lo = a.lo + b.lo;
  carry = r.lo < a.lo ? 1u : 0u;
  hi = a.hi + b.hi;
  overflow = hi < a.hi;
  r.hi = hi + carry;
  overflow |= r.hi < hi;
  if (overflow) {
    r.lo = UINT64_MAX;
    r.hi = UINT64_MAX;
  }
  return r;
}

heg_u128_t heg_u128_sub_floor(heg_u128_t a, heg_u128_t b) {
  heg_u128_t r;
  if (heg_u128_cmp(a, b) <= 0) {
    return heg_u128_zero();
  }
  r.lo = a.lo - b.lo;
  r.hi = a.hi - b.hi - (a.lo < b.lo ? 1u : 0u);
  return r;
}

heg_u128_t heg_u128_min(heg_u128_t a, heg_u128_t b) { return heg_u128_cmp(a, b) <= 0 ? a : b; }

/* x * y in full, schoolbook on 32-bit halves. */
static heg_u128_t mul_u64_wide(uint64_t x, uint64_t y) {
  uint64_t x_lo = x & 0xffffffffu;
  uint64_t x_hi = x >> 32;
  uint64_t y_lo = y & 0xffffffffu;
  uint64_t y_hi = y >> 32;
  uint64_t p0 = x_lo * y_lo;
  uint64_t p1 = x_lo * y_hi;
  uint64_t p2 = x_hi * y_lo;
  uint64_t mid = (p0 >> 32) + (p1 & 0xffffffffu) + (p2 & 0xffffffffu);
  heg_u128_t r;
  r.lo = (p0 & 0xffffffffu) | (mid << 32);
  r.hi = (mid >> 32) + (p1 >> 32) + (p2 >> 32) + x_hi * y_hi;
  return r;
}

heg_u128_t heg_u128_mul_u64(heg_u128_t a, uint64_t b) {
  /* a * b = a.lo * b + 2^64 * (a.hi * b): too large when a.hi * b needs
   * more than 64 bits or the sum carries out of 128. Found by multiplying,
   * not by dividing (UINT64_MAX / b was libgcc's 64-bit division). */
  heg_u128_t r = mul_u64_wide(a.lo, b);
  heg_u128_t high = mul_u64_wide(a.hi, b);
  r.hi += high.lo;
  if (high.hi != 0u || r.hi < high.lo) {
    r.lo = UINT64_MAX;
    r.hi = UINT64_MAX;
  }
  return r;
}

uint64_t heg_u64_div_u32(uint64_t n, uint32_t d, uint32_t *rem) {
  uint64_t q = 0u;
  uint64_t r = 0u; /* below d (below 2^33 just after each shift) */
  int bit;
  if (d == 0u) {
    q = UINT64_MAX;
  } else {
    for (bit = 63; bit >= 0; --bit) {
      r = (r << 1) | ((n >> bit) & 1u);
      q <<= 1;
      if (r >= d) {
        r -= d;
        q |= 1u;
      }
    }
  }
  if (rem != NULL) {
    *rem = (uint32_t)r;
  }
  return q;
}

heg_u128_t heg_u128_ceil_div8(heg_u128_t a) {
  heg_u128_t r;
  heg_u128_t one;
  r.lo = (a.lo >> 3) | (a.hi << 61);
  r.hi = a.hi >> 3;
  if ((a.lo & 7u) != 0) {
    one.lo = 1;
    one.hi = 0;
    r = heg_u128_add(r, one);
  }
  return r;
}

int heg_u128_twice_below(heg_u128_t a, heg_u128_t b) {
  heg_u128_t twice;
  if ((a.hi >> 63) != 0) {
    return 0;
  }
  twice.hi = (a.hi << 1) | (a.lo >> 63);
  twice.lo = a.lo << 1;
  return heg_u128_cmp(twice, b) < 0;
}

heg_hbool_t heg_bytes_equal(const uint8_t *a, const uint8_t *b, size_t n) {
  uint8_t diff = 0;
  size_t i;
  for (i = 0; i < n; ++i) {
    diff = (uint8_t)(diff | (a[i] ^ b[i]));
  }
  return diff == 0 ? HEG_HTRUE : HEG_HFALSE;
}

heg_hbool_t heg_bytes_zero(const uint8_t *a, size_t n) {
  uint8_t acc = 0;
  size_t i;
  for (i = 0; i < n; ++i) {
    acc = (uint8_t)(acc | a[i]);
  }
  return acc == 0 ? HEG_HTRUE : HEG_HFALSE;
}

HEG_STATIC_ASSERT(sizeof(HEG_WIRE_MAGIC) == HEG_WIRE_MAGIC_LEN + 1u, magic_len);
HEG_STATIC_ASSERT(HEG_LICENSE_RECORD_TYPE_OFF == HEG_ENDORSEMENT_RECORD_TYPE_OFF &&
                      HEG_LICENSE_RECORD_TYPE_OFF == HEG_ATTESTATION_RECORD_TYPE_OFF,
                  common_header_type);
HEG_STATIC_ASSERT(HEG_LICENSE_VERSION_OFF == HEG_ENDORSEMENT_VERSION_OFF &&
                      HEG_LICENSE_VERSION_OFF == HEG_ATTESTATION_VERSION_OFF,
                  common_header_version);

heg_status_t heg_check_record_header(const uint8_t *data, size_t len, uint8_t record_type) {
  if (len < HEG_WIRE_MAGIC_LEN) {
    return HEG_STATUS_RECORD_LENGTH;
  }
  if (memcmp(data, HEG_WIRE_MAGIC, HEG_WIRE_MAGIC_LEN) != 0) {
    return HEG_STATUS_RECORD_HEADER;
  }
  if (len <= HEG_LICENSE_RECORD_TYPE_OFF) {
    return HEG_STATUS_RECORD_LENGTH;
  }
  if (data[HEG_LICENSE_RECORD_TYPE_OFF] != record_type) {
    return HEG_STATUS_RECORD_HEADER;
  }
  if (len <= HEG_LICENSE_VERSION_OFF) {
    return HEG_STATUS_RECORD_LENGTH;
  }
  if (data[HEG_LICENSE_VERSION_OFF] != HEG_WIRE_VERSION) {
    return HEG_STATUS_RECORD_HEADER;
  }
  return HEG_STATUS_OK;
}
