/* The SoC's benchmark image: each operation of bench/firmware/bench_ops.h
 * timed by the PicoRV32's own cycle and instruction counters (rdcycle,
 * rdinstret), so the count is what the RTL CPU spent, not an estimate. One
 * line per operation goes out on the UART:
 *   bench MODE CYCLES INSTRUCTIONS RESULT
 * then "bench done" (tools/soc/bench.py reads them from the harness). */
#include <stdint.h>

#include "bench_ops.h"
#include "hal_rv32.h"

static const uint32_t k_modes[] = {HEG_BENCH_NOTHING, HEG_BENCH_BARE_VERIFY,
                                   HEG_BENCH_LICENSE_VERIFY, HEG_BENCH_ATTEST_SIGN};

static uint32_t cycles(void) {
  uint32_t value;
  __asm__ volatile("rdcycle %0" : "=r"(value));
  return value;
}

static uint32_t instructions(void) {
  uint32_t value;
  __asm__ volatile("rdinstret %0" : "=r"(value));
  return value;
}

static void put_text(const char *text) {
  while (*text != '\0') {
    heg_rv32_uart_putc((uint8_t)*text++);
  }
}

static void put_number(int64_t value) {
  char digits[24];
  uint32_t n = 0;
  uint64_t magnitude = value < 0 ? (uint64_t)(-value) : (uint64_t)value;
  if (value < 0) {
    heg_rv32_uart_putc('-');
  }
  do {
    digits[n++] = (char)('0' + (int)(magnitude % 10u));
    magnitude /= 10u;
  } while (magnitude != 0u);
  while (n != 0u) {
    heg_rv32_uart_putc((uint8_t)digits[--n]);
  }
}

int main(void) {
  uint32_t i;
  if (heg_bench_setup() != 0) {
    put_text("bench setup failed\n");
    heg_rv32_fault();
  }
  for (i = 0; i < sizeof(k_modes) / sizeof(k_modes[0]); ++i) {
    uint32_t c0 = cycles();
    uint32_t i0 = instructions();
    int result = heg_bench_run(k_modes[i]);
    uint32_t c1 = cycles();
    uint32_t i1 = instructions();
    put_text("bench ");
    put_number(k_modes[i]);
    put_text(" ");
    put_number(c1 - c0);
    put_text(" ");
    put_number(i1 - i0);
    put_text(" ");
    put_number(result);
    put_text("\n");
  }
  put_text("bench done\n");
  for (;;) {
  }
}
