/* A software model of the heg_meter register block (hdl/rtl/heg_meter.v).
 *
 * STAND-IN FOR THE RTL. On a real board the meter is hardware beside the
 * accelerator and the HAL reads its registers over the bus. The standalone
 * ports (posix pty server, Cortex-M4 under QEMU) have no such block, so they
 * link this model behind heg_hal_reg_read/heg_hal_reg_write. It follows the
 * Python reference model (sim/openheg_sim/meter_model.py, MeterModel) edge for
 * edge and register for register: weights, the two-edge op pipeline, the staged
 * 128-bit LIMIT committed on LIMIT_3, the staged 64-bit CHARGE_MAX (no overshoot,
 * overrate), LOWWATER, CTRL.snapshot, the multi-bit GATE/PAUSE/WDOG codes, STATUS
 * and GATE_CAUSE, watchdog, throttle, interrupts, REGWEN lock. The test
 * tests/firmware/test_protocol_meter_sim.py replays random register traffic
 * on both and compares every read. Fault injection and the closed-form
 * multi-cycle helpers of the Python model are not reproduced.
 *
 * C99, no heap, no globals; 128-bit values are two 64-bit halves so the model
 * also builds for 32-bit MCUs.
 */
#ifndef HEG_METER_SIM_H
#define HEG_METER_SIM_H

#include <stdint.h>

#include "heg/heg_regs.h"

typedef struct {
  uint64_t lo;
  uint64_t hi;
} heg_msim_u128_t;

/* Ops per lane per edge fit this many bits (the RTL's COUNT_BITS). */
#define HEG_METER_SIM_COUNT_BITS 16u

typedef struct {
  uint64_t cycle;
  heg_msim_u128_t counts[HEG_LANES];
  heg_msim_u128_t acc, acc_n; /* the accumulator register (acc_reg in the Python model) */
  uint32_t pending_ops[HEG_LANES]; /* pipeline stage 1: the last edge's ops */
  uint64_t pending_charge;         /* and their charge in milli-sFLOP */
  uint32_t stage_ops[HEG_LANES];   /* pipeline stage 2: the edge before's ops */
  uint64_t stage_charge;           /* and their charge, summed over the lanes */
  heg_msim_u128_t count_snap[HEG_LANES];
  heg_msim_u128_t acc_snap;
  uint8_t sat[HEG_LANES + 1u];
  uint32_t weights[HEG_LANES];
  uint32_t gate_enable;
  uint32_t limit_stage[3];
  heg_msim_u128_t limit, limit_n;
  uint32_t lowwater_stage[3];
  heg_msim_u128_t lowwater;
  uint32_t charge_max_stage;
  uint64_t charge_max; /* CHARGE_MAX: 0 = not declared */
  uint64_t charge_max_seen; /* CHARGE_MAX as it stood at the last edge */
  uint8_t open_prev;        /* the gate was open in the cycle before the last edge */
  uint8_t regwen;
  uint32_t locked_writes;
  uint32_t pause;
  uint32_t wdog_arm, wdog_period, wdog_window, wdog_count, wdog_count_before;
  uint8_t wdog_early;
  uint32_t throttle, throttle_frac;
  uint32_t intr_state, intr_enable, intr_set_last;
  uint8_t tamper_in;
  uint32_t gate_state;
  uint8_t exhausted, disarmed, paused, watchdog, tamper, throttled, fatal_latched, overrate;
  uint32_t bus_errors; /* accesses to unmapped addresses (the RTL answers SLVERR) */
} heg_meter_sim_t;

void heg_meter_sim_reset(heg_meter_sim_t *m);

/* One clock edge sampling ops[lane] (each < 2^HEG_METER_SIM_COUNT_BITS, larger
 * values are clamped) and the tamper input. ops may be NULL (an idle edge). */
void heg_meter_sim_step(heg_meter_sim_t *m, const uint32_t ops[HEG_LANES]);

/* Bus accesses between edges. Unmapped addresses read 0; writes to them
 * change nothing but bus_errors. strb: byte-lane strobes, 0xF for a word. */
uint32_t heg_meter_sim_read(const heg_meter_sim_t *m, uint32_t addr);
void heg_meter_sim_write(heg_meter_sim_t *m, uint32_t addr, uint32_t value, uint32_t strb);

/* The tamper pin's level, sampled at every following edge. */
void heg_meter_sim_set_tamper(heg_meter_sim_t *m, int level);

/* accel_enable_o for the cycle after the last edge: 1 or 0. */
int heg_meter_sim_enable(const heg_meter_sim_t *m);

#endif /* HEG_METER_SIM_H */
