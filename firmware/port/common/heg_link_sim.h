/* A software model of the heg_link register block (hdl/rtl/heg_link.v,
 * hdl/rdl/heg_link.rdl) for the standalone ports with no limiter hardware
 * (posix pty server, Cortex-M4 under QEMU).
 *
 * STAND-IN FOR THE RTL, registers only: LINK_REGWEN (write zero to clear),
 * RATE and BURST (ignored and counted in ERR_STATUS once locked), BEAT_COST,
 * and a wire-byte count that stays 0, since no stream runs through these
 * ports. The emulator's Python model (sim/openheg_sim/stream_limiter_model.py,
 * LinkRegisters) adds traffic. C99, no heap, no globals. */
#ifndef HEG_LINK_SIM_H
#define HEG_LINK_SIM_H

#include <stdint.h>

#include "heg/heg_link_regs.h"

/* The clock the standalone ports' limiter counts: the emulator's
 * (EMULATED_LINK_CLOCK_HZ), so one policy gives every port one RATE. */
#define HEG_LINK_SIM_CLOCK_HZ 1000000000u
/* Wire bytes per beat of a 64-bit stream with a 1-bit tuser (heg_link.rdl). */
#define HEG_LINK_SIM_BEAT_COST 10u

typedef struct {
  uint32_t regwen;
  uint32_t rate;
  uint32_t burst;
  uint32_t locked_writes;
} heg_link_sim_t;

void heg_link_sim_reset(heg_link_sim_t *link);
uint32_t heg_link_sim_read(const heg_link_sim_t *link, uint32_t offset);
void heg_link_sim_write(heg_link_sim_t *link, uint32_t offset, uint32_t value);

#endif /* HEG_LINK_SIM_H */
