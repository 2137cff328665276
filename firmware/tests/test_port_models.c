/* The posix port's stand-ins: the meter register model, the NOR model and the
 * OTP model.
 * (The meter model is compared with the Python MeterModel by
 * tests/firmware/test_protocol_meter_sim.py; these are the basics.) */
#include <string.h>

#include "ctest.h"
#include "heg/heg_regs.h"
#include "heg_meter_sim.h"
#include "heg_nor_sim.h"

static void test_meter(ctest_t *t) {
  heg_meter_sim_t m;
  uint32_t ops[HEG_LANES] = {0};
  heg_meter_sim_reset(&m);
  CHECK(t, heg_meter_sim_read(&m, HEG_REG_ID) == HEG_ID_MAGIC_RESET, "ID");
  CHECK(t, !heg_meter_sim_enable(&m), "gate open at reset");
  /* The limit takes effect only on the LIMIT_3 write. */
  heg_meter_sim_write(&m, HEG_REG_LIMIT_0, 6000u, 0xfu);
  CHECK(t, heg_meter_sim_read(&m, HEG_REG_LIMIT_0) == 0u, "limit staged early");
  heg_meter_sim_write(&m, HEG_REG_LIMIT_3, 0u, 0xfu);
  CHECK(t, heg_meter_sim_read(&m, HEG_REG_LIMIT_0) == 6000u, "limit not committed");
  /* Declared: one cycle adds at most 3 FP8 ops (3000 milli-sFLOP). */
  heg_meter_sim_write(&m, HEG_REG_CHARGE_MAX_0, 3000u, 0xfu);
  heg_meter_sim_write(&m, HEG_REG_CHARGE_MAX_1, 0u, 0xfu);
  heg_meter_sim_write(&m, HEG_REG_GATE, HEG_GATE_ENABLE_OPEN, 0xfu);
  heg_meter_sim_step(&m, NULL);
  /* The edge after a CHARGE_MAX commit keeps the gate closed (stale in-flight bound). */
  CHECK(t, !heg_meter_sim_enable(&m), "open at the edge after the CHARGE_MAX commit");
  heg_meter_sim_step(&m, NULL);
  CHECK(t, heg_meter_sim_enable(&m), "gate did not open");
  ops[HEG_LANE_FP8] = 3u;
  heg_meter_sim_step(&m, ops);
  CHECK(t, heg_meter_sim_enable(&m), "closed with room for two more cycles");
  heg_meter_sim_step(&m, ops);
  /* 6000 metered with two cycles in flight: a third could pass the limit. */
  CHECK(t, !heg_meter_sim_enable(&m), "open with no room for the next cycle");
  CHECK(t, heg_meter_sim_read(&m, HEG_REG_GATE_CAUSE) & HEG_GATE_CAUSE_EXHAUSTED_MASK,
        "no EXHAUSTED cause");
  heg_meter_sim_step(&m, NULL);
  heg_meter_sim_write(&m, HEG_REG_CTRL, HEG_CTRL_SNAPSHOT_MASK, 0xfu);
  CHECK(t, heg_meter_sim_read(&m, HEG_REG_ACC_SNAP_0) == 6000u, "snapshot %u (limit 6000)",
        (unsigned)heg_meter_sim_read(&m, HEG_REG_ACC_SNAP_0));
  CHECK(t, heg_meter_sim_read(&m, HEG_REG_COUNT_SNAP_FP8_0) == 6u, "lane count");
  /* A cycle above the declared bound latches overrate. */
  heg_meter_sim_write(&m, HEG_REG_LIMIT_3, 1u, 0xfu);
  ops[HEG_LANE_FP8] = 4u;
  heg_meter_sim_step(&m, ops);
  heg_meter_sim_step(&m, NULL); /* the lanes are summed */
  heg_meter_sim_step(&m, NULL); /* and the sum checked */
  CHECK(t, heg_meter_sim_read(&m, HEG_REG_GATE_CAUSE) & HEG_GATE_CAUSE_OVERRATE_MASK,
        "no OVERRATE cause");
  heg_meter_sim_write(&m, 0x7fcu, 1u, 0xfu);
  CHECK(t, m.bus_errors == 1u, "unmapped write not counted");
}

static void test_nor(ctest_t *t) {
  static uint8_t image[4u * 256u];
  heg_nor_sim_t nor;
  static const uint8_t word[4] = {1, 2, 3, 4};
  uint8_t back[4];
  heg_nor_sim_init(&nor, image, 256u, 4u, HEG_HTRUE);
  CHECK(t, heg_nor_sim_program(&nor, 8u, word, 4u) == HEG_STATUS_OK, "program");
  CHECK(t, heg_nor_sim_program(&nor, 8u, word, 4u) == HEG_STATUS_STORAGE, "rewrite allowed");
  CHECK(t, heg_nor_sim_program(&nor, 2u, word, 4u) == HEG_STATUS_STORAGE, "misaligned");
  CHECK(t, heg_nor_sim_program(&nor, 1020u, word, 8u) == HEG_STATUS_STORAGE, "past the end");
  CHECK(t, heg_nor_sim_read(&nor, 8u, back, 4u) == HEG_STATUS_OK && memcmp(back, word, 4) == 0,
        "read back");
  CHECK(t, heg_nor_sim_erase(&nor, 0u) == HEG_STATUS_OK && image[8] == 0xffu, "erase");
  CHECK(t, heg_nor_sim_erase(&nor, 4u) == HEG_STATUS_STORAGE, "erase past the end");
}

/* heg_hal.h's OTP contract: 0xFF until programmed, one whole program, a
 * second one refused with nothing changed, and no erase of the flash beside
 * it reaches it. */
static void test_otp(ctest_t *t) {
  static uint8_t area[HEG_OTP_SIZE];
  static uint8_t first[HEG_OTP_SIZE];
  static uint8_t second[HEG_OTP_SIZE];
  static uint8_t back[HEG_OTP_SIZE];
  heg_otp_sim_t otp;
  size_t i;
  for (i = 0; i < HEG_OTP_SIZE; ++i) {
    first[i] = (uint8_t)i;
    second[i] = (uint8_t)(0xffu - i);
  }
  heg_otp_sim_init(&otp, area, HEG_HTRUE);
  CHECK(t, heg_otp_sim_read(&otp, back) == HEG_STATUS_OK && back[0] == 0xffu &&
               back[HEG_OTP_SIZE - 1u] == 0xffu,
        "blank area does not read 0xFF");
  CHECK(t, heg_otp_sim_program(&otp, first) == HEG_STATUS_OK, "first program refused");
  CHECK(t, heg_otp_sim_program(&otp, second) == HEG_STATUS_STORAGE, "second program taken");
  CHECK(t, heg_otp_sim_program(&otp, first) == HEG_STATUS_STORAGE, "same data programmed twice");
  CHECK(t, heg_otp_sim_read(&otp, back) == HEG_STATUS_OK &&
               memcmp(back, first, HEG_OTP_SIZE) == 0 && otp.programs == 1u,
        "a refused program changed the area");
  /* A part programmed before (non-blank init) keeps its bits and refuses too. */
  heg_otp_sim_init(&otp, area, HEG_HFALSE);
  CHECK(t, heg_otp_sim_program(&otp, second) == HEG_STATUS_STORAGE &&
               memcmp(area, first, HEG_OTP_SIZE) == 0,
        "power-up forgot the programmed area");
}

void test_port_models(ctest_t *t) {
  test_meter(t);
  test_nor(t);
  test_otp(t);
}
