/* Cortex-M4 driver for the unicorn counter: the emulator writes the mode
 * into heg_bench_mode, starts at the reset vector and stops at the bkpt;
 * heg_bench_result is 0 when the operation gave the expected verdict. */
#include <stdint.h>

#include "bench_ops.h"

/* Outside .data and .bss, so start-up leaves what the emulator wrote. */
__attribute__((section(".hwsim"))) volatile uint32_t heg_bench_mode;
volatile int32_t heg_bench_result = -2;

int main(void) {
  if (heg_bench_setup() != 0) {
    heg_bench_result = -3;
  } else {
    heg_bench_result = heg_bench_run(heg_bench_mode);
  }
  __asm__ volatile("bkpt #0");
  return 0;
}
