/* The SoC's OTP, end to end through the rv32 port's HAL: the fuse block in
 * RTL (hdl/soc/heg_soc_otp.v) and, in simulation, the harness that keeps the
 * fuses across power cycles. Prints on the UART, one fact a line:
 *   otp blank B        1: every byte read 0xFF before anything was done
 *   otp program S      the status of programming the pattern (hex)
 *   otp pattern P      1: the area reads back as the pattern
 *   otp again S        the status of a second program with other data (hex)
 *   otp kept K         1: the area still reads as the pattern after it
 *   done
 * tests/soc/test_soc_otp.py runs it twice on one OTP file (a power cycle in
 * between) and checks the contract of SEAMS.md from the lines. */
#include <stdint.h>
#include <string.h>

#include "hal_rv32.h"

static void put_text(const char *text) {
  while (*text != '\0') {
    heg_rv32_uart_putc((uint8_t)*text++);
  }
}

static void put_line(const char *label, uint32_t value) {
  static const char k_hex[] = "0123456789abcdef";
  int shift;
  put_text(label);
  for (shift = 28; shift >= 0; shift -= 4) {
    heg_rv32_uart_putc((uint8_t)k_hex[(value >> (uint32_t)shift) & 0xfu]);
  }
  put_text("\n");
}

static uint32_t equals(const uint8_t *a, const uint8_t *b) {
  return memcmp(a, b, HEG_OTP_SIZE) == 0 ? 1u : 0u;
}

int main(void) {
  heg_hal_t hal;
  uint8_t pattern[HEG_OTP_SIZE];
  uint8_t other[HEG_OTP_SIZE];
  uint8_t blank[HEG_OTP_SIZE];
  uint8_t read[HEG_OTP_SIZE];
  uint32_t i;
  heg_rv32_hal_init(&hal);
  for (i = 0; i < HEG_OTP_SIZE; ++i) {
    pattern[i] = (uint8_t)(i * 7u + 3u);
    other[i] = (uint8_t)~pattern[i];
  }
  memset(blank, 0xff, sizeof(blank));
  if (heg_hal_otp_read(&hal, read) != HEG_STATUS_OK) {
    heg_rv32_fault();
  }
  put_line("otp blank ", equals(read, blank));
  put_line("otp program ", (uint32_t)heg_hal_otp_program(&hal, pattern));
  if (heg_hal_otp_read(&hal, read) != HEG_STATUS_OK) {
    heg_rv32_fault();
  }
  put_line("otp pattern ", equals(read, pattern));
  put_line("otp again ", (uint32_t)heg_hal_otp_program(&hal, other));
  if (heg_hal_otp_read(&hal, read) != HEG_STATUS_OK) {
    heg_rv32_fault();
  }
  put_line("otp kept ", equals(read, pattern));
  put_text("done\n");
  for (;;) {
  }
}
