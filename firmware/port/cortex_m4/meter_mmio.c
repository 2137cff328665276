/* The meter binding of the board image: the metering block (hdl/rtl/heg_meter)
 * on the MCU's bus, its registers (heg_regs.h offsets) 32-bit wide at
 * HEG_CM4_METER_BASE. The vendor sets the base address of its SoC; the
 * default is a free region of the MPS2+ map. The RTL runs on its own clock,
 * so there is nothing to step. This image is built for `make size` (the
 * flash and RAM a real part needs); QEMU has no meter block to run it on. */
#include <stddef.h>
#include <stdint.h>

#include "hal_cm4.h"

#ifndef HEG_CM4_METER_BASE
#define HEG_CM4_METER_BASE 0x40100000u
#endif
/* The interconnect limiter (hdl/rtl/heg_link), its registers (heg_link_regs.h
 * offsets) likewise, and the clock it runs on: both the vendor's to set. */
#ifndef HEG_CM4_LINK_BASE
#define HEG_CM4_LINK_BASE 0x40101000u
#endif
#ifndef HEG_CM4_LINK_CLOCK_HZ
#define HEG_CM4_LINK_CLOCK_HZ 1000000000u
#endif

static volatile uint32_t *meter_reg(uint32_t offset) {
  return (volatile uint32_t *)(uintptr_t)(HEG_CM4_METER_BASE + offset);
}

static volatile uint32_t *link_reg(uint32_t offset) {
  return (volatile uint32_t *)(uintptr_t)(HEG_CM4_LINK_BASE + offset);
}

void heg_cm4_meter_init(heg_hal_t *hal) {
  hal->meter = NULL;
  hal->link = NULL;
}

void heg_cm4_meter_clock(heg_hal_t *hal) { (void)hal; }

uint32_t heg_hal_reg_read(heg_hal_t *hal, uint32_t offset) {
  (void)hal;
  return *meter_reg(offset);
}

void heg_hal_reg_write(heg_hal_t *hal, uint32_t offset, uint32_t value) {
  (void)hal;
  *meter_reg(offset) = value;
}

uint32_t heg_hal_link_read(heg_hal_t *hal, uint32_t offset) {
  (void)hal;
  return *link_reg(offset);
}

void heg_hal_link_write(heg_hal_t *hal, uint32_t offset, uint32_t value) {
  (void)hal;
  *link_reg(offset) = value;
}

uint32_t heg_hal_link_clock_hz(heg_hal_t *hal) {
  (void)hal;
  return HEG_CM4_LINK_CLOCK_HZ;
}
