/* Little-endian field codec and 128-bit arithmetic (saturating, never wraps). */
#ifndef HEG_SRC_CODEC_H
#define HEG_SRC_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "heg/heg.h"

uint16_t heg_load_u16(const uint8_t *p);
uint32_t heg_load_u32(const uint8_t *p);
uint64_t heg_load_u64(const uint8_t *p);
heg_u128_t heg_load_u128(const uint8_t *p);
void heg_store_u16(uint8_t *p, uint16_t v);
void heg_store_u32(uint8_t *p, uint32_t v);
void heg_store_u64(uint8_t *p, uint64_t v);
void heg_store_u128(uint8_t *p, heg_u128_t v);

/* 128-bit arithmetic takes many Thumb instructions: kept out of line, one
 * copy of each in the image instead of one per use (about 0.9 KB less on
 * Cortex-M4 with -Os -flto). */
#if defined(__GNUC__) || defined(__clang__)
#define HEG_OUT_OF_LINE __attribute__((noinline))
#else
#define HEG_OUT_OF_LINE
#endif

heg_u128_t heg_u128_zero(void);
int heg_u128_is_zero(heg_u128_t a);
/* -1, 0 or 1 as a is below, equal to or above b. */
HEG_OUT_OF_LINE int heg_u128_cmp(heg_u128_t a, heg_u128_t b);
/* a + b, saturating at 2^128 - 1. */
HEG_OUT_OF_LINE heg_u128_t heg_u128_add(heg_u128_t a, heg_u128_t b);
/* a - b, or 0 when b > a. */
HEG_OUT_OF_LINE heg_u128_t heg_u128_sub_floor(heg_u128_t a, heg_u128_t b);
heg_u128_t heg_u128_min(heg_u128_t a, heg_u128_t b);
/* a * b, saturating at 2^128 - 1. */
heg_u128_t heg_u128_mul_u64(heg_u128_t a, uint64_t b);
/* n / d, and n % d into *rem unless rem is NULL; d == 0 saturates (the
 * quotient is UINT64_MAX, the remainder 0). Every division of 64 bits in the
 * firmware goes through it: the 32-bit cores divide only 32 bits in
 * hardware, and libgcc's __udivdi3 and __umoddi3 take about 2 KB of RV32
 * flash where this loop takes a few dozen bytes. */
HEG_OUT_OF_LINE uint64_t heg_u64_div_u32(uint64_t n, uint32_t d, uint32_t *rem);
/* ceil(a / 8) */
heg_u128_t heg_u128_ceil_div8(heg_u128_t a);
/* 1 when 2 * a < b. */
int heg_u128_twice_below(heg_u128_t a, heg_u128_t b);

/* HEG_HTRUE when the n bytes at a and b are equal (time independent of data). */
heg_hbool_t heg_bytes_equal(const uint8_t *a, const uint8_t *b, size_t n);
/* HEG_HTRUE when all n bytes are zero. */
heg_hbool_t heg_bytes_zero(const uint8_t *a, size_t n);

/* Every record starts with the same header (magic, type, version). Checked in
 * the spec's reading order (openheg.wire) so host and device give the same
 * status for any bytes: too short for the next header field is RECORD_LENGTH,
 * a wrong field that is present is RECORD_HEADER. */
HEG_MUST_USE heg_status_t heg_check_record_header(const uint8_t *data, size_t len,
                                                  uint8_t record_type);

/* A CBOR writer (RFC 8949) for deterministic encoding (section 4.2.1):
 * definite lengths, every argument in its shortest form, integers above
 * 2^64 - 1 as bignums (tag 2) without leading zero bytes. It writes into
 * [pos, end) and never past end: a write that does not fit writes nothing
 * and leaves status RESPONSE_TOO_LARGE, which every later write keeps, so a
 * caller checks status once at the end. */
typedef struct {
  uint8_t *pos;
  uint8_t *end;
  heg_status_t status;
} heg_cbor_t;

#define HEG_CBOR_UINT 0u
#define HEG_CBOR_NEGATIVE 1u /* the value is -1 - argument */
#define HEG_CBOR_BYTES 2u
#define HEG_CBOR_TEXT 3u
#define HEG_CBOR_ARRAY 4u
#define HEG_CBOR_MAP 5u
#define HEG_CBOR_TAG 6u

void heg_cbor_init(heg_cbor_t *w, uint8_t *buf, size_t cap);
/* An item's head: major type and argument (a value, length, count or tag). */
void heg_cbor_head(heg_cbor_t *w, uint8_t major, uint64_t argument);
/* Bytes as they are (a head already written, or precomputed CBOR). */
void heg_cbor_raw(heg_cbor_t *w, const uint8_t *data, size_t len);
/* A byte string (major 2) or text string (major 3) of len bytes. */
void heg_cbor_string(heg_cbor_t *w, uint8_t major, const uint8_t *data, size_t len);
/* An unsigned integer given as len (at most 16) little-endian bytes, as the
 * wire records hold them. */
void heg_cbor_uint_le(heg_cbor_t *w, const uint8_t *le, size_t len);

#endif /* HEG_SRC_CODEC_H */
