/* Metering and enforcement: drives the meter's registers. Allowance is
 * charged ahead: the charged total is persisted before the meter's limit is
 * raised to it, so a power cut can never hand compute back. */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

static const uint32_t k_weight_regs[HEG_LANES] = {
    HEG_REG_WEIGHT_NF4,  HEG_REG_WEIGHT_FP8,  HEG_REG_WEIGHT_FP16,
    HEG_REG_WEIGHT_FP32, HEG_REG_WEIGHT_FP64, HEG_REG_WEIGHT_INT8,
};

static const uint32_t k_default_weights[HEG_LANES] = {
    HEG_WEIGHT_NF4_MILLI_RESET,  HEG_WEIGHT_FP8_MILLI_RESET,  HEG_WEIGHT_FP16_MILLI_RESET,
    HEG_WEIGHT_FP32_MILLI_RESET, HEG_WEIGHT_FP64_MILLI_RESET, HEG_WEIGHT_INT8_MILLI_RESET,
};

static const uint32_t k_count_snap_regs[HEG_LANES][4] = {
    {HEG_REG_COUNT_SNAP_NF4_0, HEG_REG_COUNT_SNAP_NF4_1, HEG_REG_COUNT_SNAP_NF4_2,
     HEG_REG_COUNT_SNAP_NF4_3},
    {HEG_REG_COUNT_SNAP_FP8_0, HEG_REG_COUNT_SNAP_FP8_1, HEG_REG_COUNT_SNAP_FP8_2,
     HEG_REG_COUNT_SNAP_FP8_3},
    {HEG_REG_COUNT_SNAP_FP16_0, HEG_REG_COUNT_SNAP_FP16_1, HEG_REG_COUNT_SNAP_FP16_2,
     HEG_REG_COUNT_SNAP_FP16_3},
    {HEG_REG_COUNT_SNAP_FP32_0, HEG_REG_COUNT_SNAP_FP32_1, HEG_REG_COUNT_SNAP_FP32_2,
     HEG_REG_COUNT_SNAP_FP32_3},
    {HEG_REG_COUNT_SNAP_FP64_0, HEG_REG_COUNT_SNAP_FP64_1, HEG_REG_COUNT_SNAP_FP64_2,
     HEG_REG_COUNT_SNAP_FP64_3},
    {HEG_REG_COUNT_SNAP_INT8_0, HEG_REG_COUNT_SNAP_INT8_1, HEG_REG_COUNT_SNAP_INT8_2,
     HEG_REG_COUNT_SNAP_INT8_3},
};

static const uint32_t k_acc_snap_regs[4] = {HEG_REG_ACC_SNAP_0, HEG_REG_ACC_SNAP_1,
                                            HEG_REG_ACC_SNAP_2, HEG_REG_ACC_SNAP_3};

static const uint32_t k_limit_regs[4] = {HEG_REG_LIMIT_0, HEG_REG_LIMIT_1, HEG_REG_LIMIT_2,
                                         HEG_REG_LIMIT_3};

static heg_u128_t read_wide(heg_ctx_t *ctx, const uint32_t regs[4]) {
  heg_u128_t v;
  v.lo = (uint64_t)heg_hal_reg_read(ctx->hal, regs[0]) |
         ((uint64_t)heg_hal_reg_read(ctx->hal, regs[1]) << 32);
  v.hi = (uint64_t)heg_hal_reg_read(ctx->hal, regs[2]) |
         ((uint64_t)heg_hal_reg_read(ctx->hal, regs[3]) << 32);
  return v;
}

heg_status_t heg_meter_check_id(heg_ctx_t *ctx) {
  if (heg_hal_reg_read(ctx->hal, HEG_REG_ID) != HEG_ID_MAGIC_RESET) {
    return HEG_STATUS_HARDWARE;
  }
  return HEG_STATUS_OK;
}

void heg_meter_load_weights_and_lock(heg_ctx_t *ctx) {
  uint32_t lane;
  const uint32_t *weights = k_default_weights;
  /* A policy is in force from KEYED on (not before provisioning, nor while a
   * device that lost its store waits for recovery). */
  if (ctx->ps.device_state == HEG_DEVICE_STATE_KEYED ||
      ctx->ps.device_state == HEG_DEVICE_STATE_PROVISIONED) {
    weights = ctx->ps.policy.weights_milli;
  }
  for (lane = 0; lane < HEG_LANES; ++lane) {
    heg_hal_reg_write(ctx->hal, k_weight_regs[lane], weights[lane]);
  }
  /* Write-zero-to-clear: the weights cannot change again until reset. */
  heg_hal_reg_write(ctx->hal, HEG_REG_CFG_REGWEN, 0u);
}

void heg_meter_watchdog_start(heg_ctx_t *ctx) {
  ctx->watchdog_armed = HEG_HFALSE;
  if (ctx->ps.device_state != HEG_DEVICE_STATE_PROVISIONED ||
      ctx->ps.policy.watchdog_period_cycles == 0u) {
    return;
  }
  heg_hal_reg_write(ctx->hal, HEG_REG_WDOG_PERIOD, ctx->ps.policy.watchdog_period_cycles);
  heg_hal_reg_write(ctx->hal, HEG_REG_WDOG_CTRL, HEG_WDOG_CTRL_ARM_ARMED);
  ctx->watchdog_armed = HEG_HTRUE;
}

void heg_meter_watchdog_kick(heg_ctx_t *ctx) {
  if (ctx->watchdog_armed == HEG_HTRUE) {
    heg_hal_reg_write(ctx->hal, HEG_REG_WDOG_KICK, HEG_WDOG_KICK_KEY_MAGIC);
  }
}

/* The meter's reset is the MCU's reset: from boot on, the configuration is
 * locked, the watchdog armed if the firmware armed it, the counters only
 * rise and LIMIT is what the firmware wrote. A reading that shows otherwise
 * saw the block reset (or rewritten) alone. Lanes are compared with the
 * totals last persisted (no RAM copy of the last reading); the accumulator,
 * which the gate enforces, with the last reading. */
void heg_meter_read(heg_ctx_t *ctx, heg_meter_reading_t *out) {
  heg_u128_t totals[HEG_LANES];
  uint32_t lane;
  uint32_t evidence = 0;
  heg_hal_reg_write(ctx->hal, HEG_REG_CTRL, HEG_CTRL_SNAPSHOT_MASK);
  out->acc = read_wide(ctx, k_acc_snap_regs);
  for (lane = 0; lane < HEG_LANES; ++lane) {
    out->lanes[lane] = read_wide(ctx, k_count_snap_regs[lane]);
  }
  heg_meter_lane_totals(ctx, out, totals);
  for (lane = 0; lane < HEG_LANES; ++lane) {
    if (heg_u128_cmp(totals[lane], ctx->ps.lane_totals[lane]) < 0) {
      evidence |= HEG_METER_EVIDENCE_LANE_BACKWARDS;
    }
  }
  out->status = heg_hal_reg_read(ctx->hal, HEG_REG_STATUS);
  out->gate_cause = heg_hal_reg_read(ctx->hal, HEG_REG_GATE_CAUSE);
  if ((out->status & HEG_STATUS_CFG_LOCKED_MASK) == 0u) {
    evidence |= HEG_METER_EVIDENCE_CONFIG_UNLOCKED;
  }
  if (ctx->watchdog_armed != HEG_HFALSE && (out->status & HEG_STATUS_WDOG_ARMED_MASK) == 0u) {
    evidence |= HEG_METER_EVIDENCE_WATCHDOG_DISARMED;
  }
  if (heg_u128_cmp(out->acc, ctx->acc_last) < 0) {
    evidence |= HEG_METER_EVIDENCE_ACCUMULATOR_BACKWARDS;
  } else {
    ctx->acc_last = out->acc;
  }
  if (heg_u128_cmp(read_wide(ctx, k_limit_regs), ctx->limit_written) != 0) {
    evidence |= HEG_METER_EVIDENCE_LIMIT_CHANGED;
  }
  out->evidence = evidence;
}

void heg_meter_write_limit(heg_ctx_t *ctx, heg_u128_t limit) {
  ctx->limit_written = limit;
  /* Words 0-2 are staged; word 3 commits all four at once. */
  heg_hal_reg_write(ctx->hal, k_limit_regs[0], (uint32_t)(limit.lo & 0xffffffffu));
  heg_hal_reg_write(ctx->hal, k_limit_regs[1], (uint32_t)(limit.lo >> 32));
  heg_hal_reg_write(ctx->hal, k_limit_regs[2], (uint32_t)(limit.hi & 0xffffffffu));
  heg_hal_reg_write(ctx->hal, k_limit_regs[3], (uint32_t)(limit.hi >> 32));
}

void heg_meter_gate_close(heg_ctx_t *ctx) {
  heg_hal_reg_write(ctx->hal, HEG_REG_GATE, HEG_GATE_ENABLE_CLOSED);
  ctx->gate_requested = HEG_HFALSE;
}

heg_u128_t heg_meter_consumed(const heg_ctx_t *ctx, const heg_meter_reading_t *reading) {
  return heg_u128_add(ctx->consumed_base, heg_u128_sub_floor(reading->acc, ctx->acc_base));
}

void heg_meter_lane_totals(const heg_ctx_t *ctx, const heg_meter_reading_t *reading,
                           heg_u128_t out[HEG_LANES]) {
  uint32_t lane;
  for (lane = 0; lane < HEG_LANES; ++lane) {
    out[lane] = heg_u128_add(ctx->lanes_at_boot[lane], reading->lanes[lane]);
  }
}

heg_u128_t heg_meter_first_charge(const heg_ctx_t *ctx, heg_u128_t allocation) {
  return heg_u128_min(ctx->ps.policy.allowance_chunk, allocation);
}

/* The meter weighs with the policy's weights (read back from the meter: they
 * were loaded and locked at boot, so a policy installed since may differ). */
static heg_hbool_t weights_current(heg_ctx_t *ctx) {
  uint32_t lane;
  uint32_t differ = 0;
  for (lane = 0; lane < HEG_LANES; ++lane) {
    differ |= heg_hal_reg_read(ctx->hal, k_weight_regs[lane]) ^ ctx->ps.policy.weights_milli[lane];
  }
  return differ == 0u ? HEG_HTRUE : HEG_HFALSE;
}

uint32_t heg_gate_causes(heg_ctx_t *ctx) {
  uint32_t causes = 0;
  heg_status_t window;
  if (ctx->ps.tampered != HEG_HFALSE) {
    causes |= HEG_GATE_CAUSE_TAMPER;
  }
  if (ctx->ps.device_state != HEG_DEVICE_STATE_PROVISIONED ||
      ctx->ps.license_active != HEG_HTRUE) {
    return causes | HEG_GATE_CAUSE_NO_LICENSE;
  }
  if (ctx->ps.paused != HEG_HFALSE) {
    causes |= HEG_GATE_CAUSE_PAUSED;
  }
  if (ctx->ps.halted != HEG_HFALSE || ctx->ps.fleet_halted != HEG_HFALSE) {
    causes |= HEG_GATE_CAUSE_HALTED;
  }
  if (weights_current(ctx) != HEG_HTRUE) {
    causes |= HEG_GATE_CAUSE_WEIGHTS_PENDING;
  }
  if (heg_link_current(ctx) != HEG_HTRUE) {
    causes |= HEG_GATE_CAUSE_LINK_PENDING;
  }
  if (ctx->ps.license_revoked != HEG_HFALSE) {
    causes |= HEG_GATE_CAUSE_LICENSE_REVOKED;
  }
  window = heg_time_window_check(ctx, ctx->ps.not_before, ctx->ps.not_after);
  if (window == HEG_STATUS_TIME_UNTRUSTED) {
    causes |= HEG_GATE_CAUSE_TIME_UNTRUSTED;
  } else if (window != HEG_STATUS_OK) {
    causes |= HEG_GATE_CAUSE_LICENSE_WINDOW;
  }
  return causes;
}

static heg_hbool_t orders_hold(const heg_ctx_t *ctx) {
  return (ctx->ps.paused != HEG_HFALSE || ctx->ps.halted != HEG_HFALSE ||
          ctx->ps.fleet_halted != HEG_HFALSE ||
          ctx->ps.tampered != HEG_HFALSE || ctx->ps.license_revoked != HEG_HFALSE)
             ? HEG_HTRUE
             : HEG_HFALSE;
}

heg_status_t heg_meter_arm(heg_ctx_t *ctx) {
  heg_hbool_t may_open = HEG_HFALSE;
  heg_hbool_t hold;
  uint32_t causes;
  heg_meter_reading_t reading;
  if (ctx->gate_requested != HEG_HTRUE) {
    /* Before any opening: a reset of the meter alone latches tamper (FW-STATE). */
    HEG_TRY(heg_meter_read_checked(ctx, &reading));
  }
  hold = orders_hold(ctx);
  /* Pause and halt are held by the meter's own PAUSE register too. */
  if (hold != ctx->pause_requested) {
    heg_hal_reg_write(ctx->hal, HEG_REG_PAUSE,
                      hold == HEG_HFALSE ? HEG_PAUSE_REQUEST_RUN : HEG_PAUSE_REQUEST_PAUSE);
    ctx->pause_requested = hold;
  }
  causes = heg_gate_causes(ctx);
  if (causes == 0u) {
    may_open = HEG_HTRUE;
  }
  if (may_open != HEG_HTRUE) {
    if (ctx->gate_requested != HEG_HFALSE) {
      heg_meter_gate_close(ctx);
    }
    return HEG_STATUS_OK;
  }
  if (ctx->gate_requested != HEG_HTRUE) {
    /* The limit is where the accumulator stands when the charged total is spent. */
    heg_meter_write_limit(
        ctx, heg_u128_add(ctx->acc_base, heg_u128_sub_floor(ctx->ps.charged, ctx->consumed_base)));
    /* Decided twice: the verdict and, independently, the causes again. */
    HEG_HARDENED_CHECK_TRUE(may_open);
    HEG_HARDENED_CHECK_TRUE(heg_gate_causes(ctx) == 0u ? HEG_HTRUE : HEG_HFALSE);
    heg_hal_reg_write(ctx->hal, HEG_REG_GATE, HEG_GATE_ENABLE_OPEN);
    ctx->gate_requested = HEG_HTRUE;
  }
  return HEG_STATUS_OK;
}

/* Tamper is latched by the meter until reset; the firmware makes it
 * permanent, and treats evidence of a reset of the block alone the same way. */
heg_status_t heg_meter_read_checked(heg_ctx_t *ctx, heg_meter_reading_t *out) {
  uint8_t event[12];
  heg_u128_t consumed;
  heg_status_t status;
  heg_hbool_t meter_lost;

  heg_meter_read(ctx, out);
  /* The block was reset alone: what it metered since the last reading is
   * lost. (A tampered clock loses nothing metered.) */
  meter_lost = out->evidence != 0u ? HEG_HTRUE : HEG_HFALSE;
  /* Every check that latches a reset of the block latches a tampered clock
   * too (timekeeping.c). */
  out->evidence |= heg_clock_monitor_check(ctx);
  if (meter_lost != HEG_HFALSE) {
    /* The limit never
     * stood above the charged total, so that bounds what ran: all of it
     * counts as consumed, and the attestation never reports less than ran. */
    consumed = heg_meter_consumed(ctx, out);
    ctx->consumed_base = heg_u128_cmp(consumed, ctx->ps.charged) > 0 ? consumed : ctx->ps.charged;
    ctx->acc_base = out->acc;
  }
  if (((out->gate_cause & HEG_GATE_CAUSE_TAMPER_MASK) == 0u && out->evidence == 0u) ||
      ctx->ps.tampered != HEG_HFALSE || ctx->ps.device_state == HEG_DEVICE_STATE_UNPROVISIONED) {
    return HEG_STATUS_OK;
  }
  heg_meter_gate_close(ctx);
  ctx->ps.tampered = HEG_HTRUE;
  heg_store_u32(event, out->gate_cause);
  heg_store_u32(event + 4u, out->evidence);
  heg_store_u32(event + 8u, out->status);
  status = heg_log_append(ctx, HEG_EVENT_TAMPER, event, sizeof(event));
  return heg_store_finish(ctx, status);
}

heg_status_t heg_meter_step(heg_ctx_t *ctx) {
  heg_meter_reading_t reading;
  heg_u128_t consumed;
  heg_u128_t unspent;
  heg_u128_t chunk;
  uint8_t payload[HEG_ID_SIZE + HEG_U128_SIZE];
  heg_status_t status;

  heg_meter_watchdog_kick(ctx);
  if (ctx->ps.device_state == HEG_DEVICE_STATE_UNPROVISIONED) {
    return HEG_STATUS_OK;
  }
  HEG_TRY(heg_meter_read_checked(ctx, &reading));
  if (ctx->ps.device_state != HEG_DEVICE_STATE_PROVISIONED ||
      ctx->ps.license_active != HEG_HTRUE) {
    return heg_meter_arm(ctx);
  }
  consumed = heg_meter_consumed(ctx, &reading);

  if (heg_u128_cmp(consumed, ctx->ps.allocation) >= 0) {
    /* Ops in flight when the gate closed may run past the charged total:
     * persist what was metered so a reboot cannot forget it. */
    if (ctx->ps.exhausted_logged != HEG_HTRUE || heg_u128_cmp(consumed, ctx->ps.charged) > 0) {
      status = HEG_STATUS_OK;
      if (heg_u128_cmp(consumed, ctx->ps.charged) > 0) {
        ctx->ps.charged = consumed;
      }
      heg_meter_lane_totals(ctx, &reading, ctx->ps.lane_totals);
      if (ctx->ps.exhausted_logged != HEG_HTRUE) {
        ctx->ps.exhausted_logged = HEG_HTRUE;
        memcpy(payload, ctx->ps.license_id, HEG_ID_SIZE);
        heg_store_u128(payload + HEG_ID_SIZE, consumed);
        status = heg_log_append(ctx, HEG_EVENT_EXHAUSTED, payload, sizeof(payload));
      }
      HEG_TRY(heg_store_finish(ctx, status));
    }
    return heg_meter_arm(ctx);
  }

  unspent = heg_u128_sub_floor(ctx->ps.charged, consumed);
  chunk = ctx->ps.policy.allowance_chunk;
  if (heg_gate_causes(ctx) == 0u && heg_u128_twice_below(unspent, chunk) &&
      heg_u128_cmp(ctx->ps.charged, ctx->ps.allocation) < 0) {
    /* A chunk ahead of what was really consumed: ops in flight at the last
     * limit may have run past the charged total, and a grant below them would
     * leave the gate shut for good. */
    ctx->ps.charged = heg_u128_min(
        heg_u128_add(heg_u128_cmp(consumed, ctx->ps.charged) > 0 ? consumed : ctx->ps.charged,
                     chunk),
        ctx->ps.allocation);
    heg_meter_lane_totals(ctx, &reading, ctx->ps.lane_totals);
    /* Charged to flash first; only then may the meter let it be spent. */
    HEG_TRY(heg_store_commit(ctx));
    if (ctx->gate_requested == HEG_HTRUE) {
      heg_meter_write_limit(ctx, heg_u128_add(ctx->acc_base, heg_u128_sub_floor(
                                                                 ctx->ps.charged,
                                                                 ctx->consumed_base)));
    }
  }
  return heg_meter_arm(ctx);
}
