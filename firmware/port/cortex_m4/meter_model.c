/* The meter binding of the QEMU test image: QEMU has no meter block, so the
 * registers land on the RTL's software model (port/common/heg_meter_sim, the
 * same model the other ports and the tests score the RTL against). Its state
 * lives in the HWSIM region, which stands in for the hardware and is not
 * firmware RAM. */
#include <stddef.h>
#include <stdint.h>

#include "hal_cm4.h"

__attribute__((section(".hwsim"))) static heg_meter_sim_t g_meter;

void heg_cm4_meter_init(heg_hal_t *hal) {
  heg_meter_sim_reset(&g_meter);
  hal->meter = &g_meter;
}

void heg_cm4_meter_clock(heg_hal_t *hal) { heg_meter_sim_step(hal->meter, 0); }

uint32_t heg_hal_reg_read(heg_hal_t *hal, uint32_t offset) {
  return heg_meter_sim_read(hal->meter, offset);
}

void heg_hal_reg_write(heg_hal_t *hal, uint32_t offset, uint32_t value) {
  heg_meter_sim_write(hal->meter, offset, value, 0xfu);
}
