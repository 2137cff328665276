/* The meter binding of the QEMU test image: QEMU has no meter block, so the
 * registers land on the RTL's software model (port/common/heg_meter_sim, the
 * same model the other ports and the tests score the RTL against), and the
 * interconnect limiter's on its register model (heg_link_sim). Their state
 * lives in the HWSIM region, which stands in for the hardware and is not
 * firmware RAM. */
#include <stddef.h>
#include <stdint.h>

#include "hal_cm4.h"

__attribute__((section(".hwsim"))) static heg_meter_sim_t g_meter;
__attribute__((section(".hwsim"))) static heg_link_sim_t g_link;

void heg_cm4_meter_init(heg_hal_t *hal) {
  heg_meter_sim_reset(&g_meter);
  heg_link_sim_reset(&g_link);
  hal->meter = &g_meter;
  hal->link = &g_link;
}

void heg_cm4_meter_clock(heg_hal_t *hal) { heg_meter_sim_step(hal->meter, 0); }

uint32_t heg_hal_reg_read(heg_hal_t *hal, uint32_t offset) {
  return heg_meter_sim_read(hal->meter, offset);
}

void heg_hal_reg_write(heg_hal_t *hal, uint32_t offset, uint32_t value) {
  heg_meter_sim_write(hal->meter, offset, value, 0xfu);
}

uint32_t heg_hal_link_read(heg_hal_t *hal, uint32_t offset) {
  return heg_link_sim_read(hal->link, offset);
}

void heg_hal_link_write(heg_hal_t *hal, uint32_t offset, uint32_t value) {
  heg_link_sim_write(hal->link, offset, value);
}

uint32_t heg_hal_link_clock_hz(heg_hal_t *hal) {
  (void)hal;
  return HEG_LINK_SIM_CLOCK_HZ;
}
