/* The codec's 64- and 128-bit arithmetic (codec.c) against the host
 * compiler's own: heg_u64_div_u32 against C's 64-bit / and % at the edges of
 * both operands and on random ones, heg_u128_mul_u64 against unsigned
 * __int128 products, saturation included. */
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "ctest.h"

__extension__ typedef unsigned __int128 ctest_u128;

static uint64_t rand64(unsigned *state) {
  uint64_t hi = ctest_rand(state);
  uint64_t value = (hi << 32) | ctest_rand(state);
  /* Every magnitude, not only values near 2^64. */
  return value >> (ctest_rand(state) % 64u);
}

static void check_div(ctest_t *t, uint64_t n, uint32_t d) {
  uint32_t rem = 0xA5A5A5A5u;
  uint64_t q = heg_u64_div_u32(n, d, &rem);
  CHECK(t, q == n / d && rem == n % d, "%llu / %lu gave %llu rem %lu", (unsigned long long)n,
        (unsigned long)d, (unsigned long long)q, (unsigned long)rem);
  CHECK(t, heg_u64_div_u32(n, d, NULL) == q, "%llu / %lu without the remainder",
        (unsigned long long)n, (unsigned long)d);
}

static void test_div(ctest_t *t) {
  static const uint32_t divisors[] = {1u,      2u,          3u,          7u,
                                      1000u,   86400u,      1000000u,    25000000u,
                                      65535u,  65536u,      0x7FFFFFFFu, 0x80000000u,
                                      0x80000001u, 0xFFFFFFFEu, 0xFFFFFFFFu};
  static const uint64_t dividends[] = {0u,
                                       1u,
                                       999u,
                                       0xFFFFFFFFu,
                                       0x100000000u,
                                       0x100000001u,
                                       0xFFFFFFFF00000000u,
                                       0x7FFFFFFFFFFFFFFFu,
                                       0x8000000000000000u,
                                       UINT64_MAX - 1u,
                                       UINT64_MAX};
  unsigned seed = 0x64D1u;
  size_t i;
  size_t j;
  unsigned k;
  uint32_t rem = 7u;
  for (i = 0; i < sizeof(divisors) / sizeof(divisors[0]); ++i) {
    uint32_t d = divisors[i];
    for (j = 0; j < sizeof(dividends) / sizeof(dividends[0]); ++j) {
      check_div(t, dividends[j], d);
    }
    /* Around d and its multiples: quotient 0, 1, 2 and the largest one. */
    check_div(t, d - 1u, d);
    check_div(t, d, d);
    check_div(t, (uint64_t)d + 1u, d);
    check_div(t, 2u * (uint64_t)d - 1u, d);
    check_div(t, (UINT64_MAX / d) * d, d);
    check_div(t, (UINT64_MAX / d) * d - 1u, d);
  }
  for (k = 0; k < (t->quick ? 2000u : 200000u); ++k) {
    uint64_t n = rand64(&seed);
    uint32_t d = (uint32_t)rand64(&seed);
    check_div(t, n, d == 0u ? 1u : d);
  }
  /* Division by zero saturates instead of trapping or wrapping. */
  CHECK(t, heg_u64_div_u32(12345u, 0u, &rem) == UINT64_MAX && rem == 0u, "x / 0 saturates");
}

static void check_mul(ctest_t *t, heg_u128_t a, uint64_t b) {
  ctest_u128 low = (ctest_u128)a.lo * b;
  ctest_u128 high = (ctest_u128)a.hi * b + (low >> 64);
  heg_u128_t got = heg_u128_mul_u64(a, b);
  int saturates = (high >> 64) != 0u;
  uint64_t want_lo = saturates ? UINT64_MAX : (uint64_t)low;
  uint64_t want_hi = saturates ? UINT64_MAX : (uint64_t)high;
  CHECK(t, got.lo == want_lo && got.hi == want_hi, "(%llx:%llx) * %llx gave %llx:%llx",
        (unsigned long long)a.hi, (unsigned long long)a.lo, (unsigned long long)b,
        (unsigned long long)got.hi, (unsigned long long)got.lo);
}

static void test_mul(ctest_t *t) {
  static const uint64_t edges[] = {0u, 1u, 2u, 0xFFFFFFFFu, 0x100000000u, 0x8000000000000000u,
                                   UINT64_MAX - 1u, UINT64_MAX};
  size_t n = sizeof(edges) / sizeof(edges[0]);
  unsigned seed = 0x128Au;
  size_t i;
  size_t j;
  size_t k;
  unsigned r;
  for (i = 0; i < n; ++i) {
    for (j = 0; j < n; ++j) {
      for (k = 0; k < n; ++k) {
        heg_u128_t a;
        a.hi = edges[i];
        a.lo = edges[j];
        check_mul(t, a, edges[k]);
      }
    }
  }
  for (r = 0; r < (t->quick ? 2000u : 100000u); ++r) {
    heg_u128_t a;
    a.hi = rand64(&seed);
    a.lo = rand64(&seed);
    check_mul(t, a, rand64(&seed));
  }
}

void test_codec_arith(ctest_t *t) {
  test_div(t);
  test_mul(t);
}
