/* heg_hal.h on a Cortex-M4 board (QEMU mps2-an386 as the reference).
 *
 * UART0 is the CMSDK APB UART. The meter registers land on the software
 * meter model (port/common/heg_meter_sim: QEMU has no meter block; on a real
 * board these two functions are volatile loads and stores to the block's
 * base address). Storage is the NOR model over the STORAGE region (on a real
 * part: the flash controller). QEMU has no TRNG: random bytes here come from
 * a fixed generator and are NOT SECRET; a real port reads the MCU's TRNG. */
#include <stdint.h>

#include "hal_cm4.h"

#define UART0_BASE 0x40004000u
#define UART_DATA (*(volatile uint32_t *)(UART0_BASE + 0x00u))
#define UART_STATE (*(volatile uint32_t *)(UART0_BASE + 0x04u))
#define UART_CTRL (*(volatile uint32_t *)(UART0_BASE + 0x08u))
#define UART_BAUDDIV (*(volatile uint32_t *)(UART0_BASE + 0x10u))
#define UART_STATE_TX_FULL 0x1u
#define UART_STATE_RX_FULL 0x2u

void heg_cm4_uart_init(void) {
  UART_BAUDDIV = 16u;
  UART_CTRL = 0x3u; /* TX and RX enable */
}

int heg_cm4_uart_getc(void) {
  if ((UART_STATE & UART_STATE_RX_FULL) == 0u) {
    return -1;
  }
  return (int)(UART_DATA & 0xffu);
}

void heg_cm4_uart_putc(uint8_t byte) {
  while (UART_STATE & UART_STATE_TX_FULL) {
  }
  UART_DATA = byte;
}

uint32_t heg_hal_reg_read(heg_hal_t *hal, uint32_t offset) {
  return heg_meter_sim_read(hal->meter, offset);
}

void heg_hal_reg_write(heg_hal_t *hal, uint32_t offset, uint32_t value) {
  heg_meter_sim_write(hal->meter, offset, value, 0xfu);
}

heg_status_t heg_hal_storage_geometry(heg_hal_t *hal, uint32_t *page_size, uint32_t *page_count) {
  return heg_nor_sim_geometry(&hal->nor, page_size, page_count);
}

heg_status_t heg_hal_storage_read(heg_hal_t *hal, uint32_t offset, uint8_t *out, size_t len) {
  return heg_nor_sim_read(&hal->nor, offset, out, len);
}

heg_status_t heg_hal_storage_program(heg_hal_t *hal, uint32_t offset, const uint8_t *data,
                                     size_t len) {
  return heg_nor_sim_program(&hal->nor, offset, data, len);
}

heg_status_t heg_hal_storage_erase(heg_hal_t *hal, uint32_t page) {
  return heg_nor_sim_erase(&hal->nor, page);
}

heg_status_t heg_hal_random(heg_hal_t *hal, uint8_t *out, size_t len) {
  heg_sim_xorshift_fill(&hal->rng, out, len);
  return HEG_STATUS_OK;
}

uint64_t heg_hal_time_now(heg_hal_t *hal) { return hal->time_now; }

uint64_t heg_hal_uptime_ms(heg_hal_t *hal) { return hal->uptime_ms; }
