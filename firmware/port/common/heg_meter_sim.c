/* The meter register model; the Python MeterModel is the reference. */
#include "heg_meter_sim.h"

#include <stddef.h>
#include <string.h>

#define WORD_MASK 0xffffffffu
#define COUNT_MAX ((1u << HEG_METER_SIM_COUNT_BITS) - 1u)
#define INTR_ALL (HEG_INTR_STATE_LOW_WATER_MASK | HEG_INTR_STATE_EXHAUSTED_MASK | \
                  HEG_INTR_STATE_FAULT_MASK)

typedef heg_msim_u128_t u128;

static const u128 k_max = {UINT64_MAX, UINT64_MAX};

static u128 u128_not(u128 a) {
  u128 r;
  r.lo = ~a.lo;
  r.hi = ~a.hi;
  return r;
}

static int u128_eq(u128 a, u128 b) { return a.lo == b.lo && a.hi == b.hi; }

static int u128_ge(u128 a, u128 b) { return a.hi != b.hi ? a.hi > b.hi : a.lo >= b.lo; }

static u128 u128_add_sat(u128 a, uint64_t b) {
  u128 r;
  r.lo = a.lo + b;
  r.hi = a.hi + (r.lo < a.lo ? 1u : 0u);
  if (r.hi < a.hi) {
    return k_max;
  }
  return r;
}

/* The accumulator the next edge writes: every op through the cycle before the last
 * edge (what the gate decides from). */
static u128 acc_next(const heg_meter_sim_t *m) { return u128_add_sat(m->acc, m->stage_charge); }

/* The metered total: the accumulator register plus the charge in the pipeline. */
static u128 metered(const heg_meter_sim_t *m) {
  return u128_add_sat(acc_next(m), m->pending_charge);
}

static u128 u128_sub(u128 a, u128 b) {
  u128 r;
  r.lo = a.lo - b.lo;
  r.hi = a.hi - b.hi - (a.lo < b.lo ? 1u : 0u);
  return r;
}

static uint32_t u128_word(u128 v, unsigned i) {
  uint64_t half = i < 2u ? v.lo : v.hi;
  return (uint32_t)((i & 1u) ? half >> 32 : half & WORD_MASK);
}

static u128 u128_from_words(const uint32_t stage[3], uint32_t top) {
  u128 r;
  r.lo = (uint64_t)stage[0] | ((uint64_t)stage[1] << 32);
  r.hi = (uint64_t)stage[2] | ((uint64_t)top << 32);
  return r;
}

static uint32_t merge(uint32_t old, uint32_t data, uint32_t strb) {
  uint32_t mask = 0;
  unsigned byte;
  for (byte = 0; byte < 4u; ++byte) {
    if ((strb >> byte) & 1u) {
      mask |= 0xffu << (8u * byte);
    }
  }
  return (old & ~mask) | (data & mask);
}

static const uint32_t k_weight_regs[HEG_LANES] = {HEG_REG_WEIGHT_NF4, HEG_REG_WEIGHT_FP8,
                                                  HEG_REG_WEIGHT_FP16, HEG_REG_WEIGHT_FP32,
                                                  HEG_REG_WEIGHT_FP64, HEG_REG_WEIGHT_INT8};
static const uint32_t k_weight_reset[HEG_LANES] = {
    HEG_WEIGHT_NF4_MILLI_RESET,  HEG_WEIGHT_FP8_MILLI_RESET,  HEG_WEIGHT_FP16_MILLI_RESET,
    HEG_WEIGHT_FP32_MILLI_RESET, HEG_WEIGHT_FP64_MILLI_RESET, HEG_WEIGHT_INT8_MILLI_RESET};
static const uint32_t k_count_snap_regs[HEG_LANES] = {
    HEG_REG_COUNT_SNAP_NF4_0,  HEG_REG_COUNT_SNAP_FP8_0,  HEG_REG_COUNT_SNAP_FP16_0,
    HEG_REG_COUNT_SNAP_FP32_0, HEG_REG_COUNT_SNAP_FP64_0, HEG_REG_COUNT_SNAP_INT8_0};
static const uint32_t k_sat_masks[HEG_LANES + 1u] = {
    HEG_SATURATION_NF4_MASK,  HEG_SATURATION_FP8_MASK,  HEG_SATURATION_FP16_MASK,
    HEG_SATURATION_FP32_MASK, HEG_SATURATION_FP64_MASK, HEG_SATURATION_INT8_MASK,
    HEG_SATURATION_ACC_MASK};

void heg_meter_sim_reset(heg_meter_sim_t *m) {
  unsigned i;
  memset(m, 0, sizeof(*m));
  m->acc_n = k_max;
  m->limit_n = k_max;
  for (i = 0; i < HEG_LANES; ++i) {
    m->weights[i] = k_weight_reset[i];
  }
  m->gate_enable = HEG_GATE_ENABLE_RESET;
  m->regwen = 1u;
  m->pause = HEG_PAUSE_REQUEST_RESET;
  m->wdog_arm = HEG_WDOG_CTRL_ARM_RESET;
  m->wdog_period = HEG_WDOG_PERIOD_CYCLES_RESET;
  m->wdog_window = HEG_WDOG_WINDOW_CYCLES_RESET;
  m->throttle = (HEG_THROTTLE_DEN_RESET << HEG_THROTTLE_DEN_SHIFT) |
                (HEG_THROTTLE_NUM_RESET << HEG_THROTTLE_NUM_SHIFT);
  m->intr_state = (HEG_INTR_STATE_LOW_WATER_RESET << HEG_INTR_STATE_LOW_WATER_SHIFT) |
                  (HEG_INTR_STATE_EXHAUSTED_RESET << HEG_INTR_STATE_EXHAUSTED_SHIFT) |
                  (HEG_INTR_STATE_FAULT_RESET << HEG_INTR_STATE_FAULT_SHIFT);
  m->gate_state = HEG_GATE_ENABLE_CLOSED;
  m->exhausted = 1u;
  m->disarmed = 1u;
}

static int wdog_armed(const heg_meter_sim_t *m) { return m->wdog_arm != HEG_WDOG_CTRL_ARM_DISARMED; }

static uint32_t throttle_num(const heg_meter_sim_t *m) {
  return (m->throttle & HEG_THROTTLE_NUM_MASK) >> HEG_THROTTLE_NUM_SHIFT;
}

static uint32_t throttle_den(const heg_meter_sim_t *m) {
  return (m->throttle & HEG_THROTTLE_DEN_MASK) >> HEG_THROTTLE_DEN_SHIFT;
}

static int any_cause(const heg_meter_sim_t *m) {
  return m->exhausted || m->disarmed || m->paused || m->watchdog || m->tamper || m->throttled ||
         m->fatal_latched || m->overrate;
}

static int consistent(const heg_meter_sim_t *m) {
  if (m->gate_state == HEG_GATE_ENABLE_OPEN) {
    return !any_cause(m);
  }
  if (m->gate_state == HEG_GATE_ENABLE_CLOSED) {
    return any_cause(m);
  }
  return 0;
}

static int shadows_ok(const heg_meter_sim_t *m) {
  return u128_eq(m->acc_n, u128_not(m->acc)) && u128_eq(m->limit_n, u128_not(m->limit)) &&
         (u128_ge(m->acc, m->limit) == u128_ge(m->limit_n, m->acc_n));
}

static int fatal(const heg_meter_sim_t *m) {
  return m->fatal_latched || !consistent(m) || !shadows_ok(m);
}

int heg_meter_sim_enable(const heg_meter_sim_t *m) {
  return m->gate_state == HEG_GATE_ENABLE_OPEN && !any_cause(m);
}

static int low_water(const heg_meter_sim_t *m) {
  return u128_ge(m->acc, m->limit) || u128_ge(m->lowwater, u128_sub(m->limit, m->acc));
}

static uint32_t status(const heg_meter_sim_t *m) {
  return (heg_meter_sim_enable(m) ? HEG_STATUS_GATE_OPEN_MASK : 0u) |
         (memchr(m->sat, 1, sizeof(m->sat)) != NULL ? HEG_STATUS_SATURATED_MASK : 0u) |
         (fatal(m) ? HEG_STATUS_FATAL_MASK : 0u) |
         (wdog_armed(m) ? HEG_STATUS_WDOG_ARMED_MASK : 0u) |
         (m->regwen ? 0u : HEG_STATUS_CFG_LOCKED_MASK);
}

static uint32_t gate_cause(const heg_meter_sim_t *m) {
  return (m->exhausted ? HEG_GATE_CAUSE_EXHAUSTED_MASK : 0u) |
         (m->disarmed ? HEG_GATE_CAUSE_DISARMED_MASK : 0u) |
         (fatal(m) ? HEG_GATE_CAUSE_FATAL_MASK : 0u) |
         (m->paused ? HEG_GATE_CAUSE_PAUSED_MASK : 0u) |
         (m->watchdog ? HEG_GATE_CAUSE_WATCHDOG_MASK : 0u) |
         (m->tamper ? HEG_GATE_CAUSE_TAMPER_MASK : 0u) |
         (m->throttled ? HEG_GATE_CAUSE_THROTTLED_MASK : 0u) |
         (m->overrate ? HEG_GATE_CAUSE_OVERRATE_MASK : 0u);
}

static uint32_t saturation(const heg_meter_sim_t *m) {
  uint32_t v = 0;
  unsigned i;
  for (i = 0; i < HEG_LANES + 1u; ++i) {
    if (m->sat[i]) {
      v |= k_sat_masks[i];
    }
  }
  return v;
}

/* heg_throttle at one edge: returns whether it lets the gate open. */
static int throttle_next(heg_meter_sim_t *m) {
  uint32_t num = throttle_num(m);
  uint32_t den = throttle_den(m);
  uint32_t s;
  if (den == 0u) {
    m->throttle_frac = 0;
    return 0;
  }
  if (num >= den) {
    m->throttle_frac = 0;
    return 1;
  }
  s = m->throttle_frac + num;
  if (s >= den) {
    m->throttle_frac = s - den;
    return 1;
  }
  m->throttle_frac = s;
  return 0;
}

/* The next cycle could take the metered total past the limit: with CHARGE_MAX = H
 * declared, the next accumulator + H (if open in the cycle before the last edge) + H
 * (if open now) + H > limit; undeclared, the next accumulator >= limit. An edge at
 * which CHARGE_MAX has just changed closes the gate (the RTL's in-flight allowance is
 * registered from the value before it). */
static int exhausted_ahead(const heg_meter_sim_t *m) {
  u128 total = acc_next(m);
  if (m->charge_max != m->charge_max_seen) {
    return 1;
  }
  if (m->charge_max == 0u) {
    return u128_ge(total, m->limit);
  }
  total = u128_add_sat(total, m->charge_max);
  if (m->open_prev) {
    total = u128_add_sat(total, m->charge_max);
  }
  if (heg_meter_sim_enable(m)) {
    total = u128_add_sat(total, m->charge_max);
  }
  return !u128_ge(m->limit, total) || u128_eq(total, k_max);
}

static void decide_gate(heg_meter_sim_t *m) {
  int fatal_d = fatal(m);
  int exhausted_d = u128_ge(m->acc, m->limit) || u128_ge(m->limit_n, m->acc_n) ||
                    exhausted_ahead(m);
  int overrate_d = m->overrate || (m->charge_max != 0u && m->stage_charge > m->charge_max);
  int low = low_water(m);
  int trip = (wdog_armed(m) && m->wdog_count >= m->wdog_period) || m->wdog_early;
  int watchdog_d = m->watchdog || trip;
  int tamper_d = m->tamper || m->tamper_in;
  int throttle_open = throttle_next(m);
  int enable_now = heg_meter_sim_enable(m);
  int opens;

  m->exhausted = (uint8_t)exhausted_d;
  m->disarmed = (uint8_t)(m->gate_enable != HEG_GATE_ENABLE_OPEN);
  m->paused = (uint8_t)(m->pause != HEG_PAUSE_REQUEST_RUN);
  m->watchdog = (uint8_t)watchdog_d;
  m->tamper = (uint8_t)tamper_d;
  m->throttled = (uint8_t)!throttle_open;
  m->fatal_latched = (uint8_t)fatal_d;
  m->overrate = (uint8_t)overrate_d;
  opens = !(fatal_d || m->exhausted || m->disarmed || m->paused || watchdog_d || tamper_d ||
            m->throttled || overrate_d);
  m->gate_state = opens ? HEG_GATE_ENABLE_OPEN : HEG_GATE_ENABLE_CLOSED;
  m->intr_set_last = (low ? HEG_INTR_STATE_LOW_WATER_MASK : 0u) |
                     (exhausted_d ? HEG_INTR_STATE_EXHAUSTED_MASK : 0u) |
                     ((watchdog_d || tamper_d || fatal_d || overrate_d) ? HEG_INTR_STATE_FAULT_MASK
                                                                        : 0u);
  m->intr_state |= m->intr_set_last;
  m->open_prev = (uint8_t)enable_now;
  m->charge_max_seen = m->charge_max;
  m->wdog_early = 0;
  m->wdog_count_before = m->wdog_count;
  if (wdog_armed(m)) {
    if (m->wdog_count != WORD_MASK) {
      m->wdog_count++;
    }
  } else {
    m->wdog_count = 0;
  }
}

/* Every counter and the metered total through the last edge's cycle (the RTL
 * completes the copy two edges later and holds reads back until then). */
static void snapshot(heg_meter_sim_t *m) {
  unsigned lane;
  for (lane = 0; lane < HEG_LANES; ++lane) {
    m->count_snap[lane] = u128_add_sat(u128_add_sat(m->counts[lane], m->stage_ops[lane]),
                                       m->pending_ops[lane]);
  }
  m->acc_snap = metered(m);
}

void heg_meter_sim_step(heg_meter_sim_t *m, const uint32_t ops[HEG_LANES]) {
  uint64_t charge = 0;
  unsigned lane;
  decide_gate(m);
  /* The ops of the edge before the last one reach the counters and the accumulator at
   * this one; the last edge's move to the second stage. */
  for (lane = 0; lane < HEG_LANES; ++lane) {
    uint32_t n = ops == NULL ? 0u : ops[lane];
    if (n > COUNT_MAX) {
      n = COUNT_MAX;
    }
    m->counts[lane] = u128_add_sat(m->counts[lane], m->stage_ops[lane]);
    if (u128_eq(m->counts[lane], k_max)) {
      m->sat[lane] = 1u;
    }
    m->stage_ops[lane] = m->pending_ops[lane];
    m->pending_ops[lane] = n;
    charge += (uint64_t)n * m->weights[lane];
  }
  m->acc = acc_next(m);
  m->stage_charge = m->pending_charge;
  m->pending_charge = charge;
  m->acc_n = u128_not(m->acc);
  if (u128_eq(m->acc, k_max)) {
    m->sat[HEG_LANES] = 1u;
  }
  m->cycle++;
}

void heg_meter_sim_set_tamper(heg_meter_sim_t *m, int level) { m->tamper_in = (uint8_t)(level != 0); }

/* Index of addr within a run of four words at base, or -1. */
static int wide_index(uint32_t addr, uint32_t base) {
  return (addr >= base && addr < base + 16u && (addr & 3u) == 0u) ? (int)((addr - base) / 4u)
                                                                    : -1;
}

uint32_t heg_meter_sim_read(const heg_meter_sim_t *m, uint32_t addr) {
  unsigned lane;
  int w;
  switch (addr) {
    case HEG_REG_ID: return HEG_ID_MAGIC_RESET;
    case HEG_REG_VERSION: return HEG_VERSION_MAJOR_RESET << HEG_VERSION_MAJOR_SHIFT;
    case HEG_REG_CTRL: return 0u;
    case HEG_REG_GATE: return m->gate_enable;
    case HEG_REG_STATUS: return status(m);
    case HEG_REG_GATE_CAUSE: return gate_cause(m);
    case HEG_REG_CFG_REGWEN: return m->regwen;
    case HEG_REG_ERR_STATUS: return m->locked_writes;
    case HEG_REG_PAUSE: return m->pause;
    case HEG_REG_WDOG_CTRL: return m->wdog_arm;
    case HEG_REG_WDOG_PERIOD: return m->wdog_period;
    case HEG_REG_WDOG_WINDOW: return m->wdog_window;
    case HEG_REG_WDOG_KICK: return 0u;
    case HEG_REG_WDOG_COUNT: return m->wdog_count;
    case HEG_REG_THROTTLE: return m->throttle;
    case HEG_REG_SATURATION: return saturation(m);
    case HEG_REG_INTR_STATE: return m->intr_state;
    case HEG_REG_INTR_ENABLE: return m->intr_enable;
    case HEG_REG_INTR_TEST: return 0u;
    default: break;
  }
  for (lane = 0; lane < HEG_LANES; ++lane) {
    if (addr == k_weight_regs[lane]) {
      return m->weights[lane];
    }
    if ((w = wide_index(addr, k_count_snap_regs[lane])) >= 0) {
      return u128_word(m->count_snap[lane], (unsigned)w);
    }
  }
  if ((w = wide_index(addr, HEG_REG_LIMIT_0)) >= 0) {
    return u128_word(m->limit, (unsigned)w);
  }
  if ((w = wide_index(addr, HEG_REG_LOWWATER_0)) >= 0) {
    return u128_word(m->lowwater, (unsigned)w);
  }
  if (addr == HEG_REG_CHARGE_MAX_0 || addr == HEG_REG_CHARGE_MAX_1) {
    return (uint32_t)(addr == HEG_REG_CHARGE_MAX_0 ? m->charge_max & WORD_MASK
                                                   : m->charge_max >> 32);
  }
  if ((w = wide_index(addr, HEG_REG_ACC_SNAP_0)) >= 0) {
    return u128_word(m->acc_snap, (unsigned)w);
  }
  /* A read cannot change the block; the port counts unmapped reads itself. */
  return 0u;
}

static void locked_write(heg_meter_sim_t *m) {
  if (m->locked_writes < HEG_ERR_STATUS_LOCKED_WRITES_MASK) {
    m->locked_writes++;
  }
}

void heg_meter_sim_write(heg_meter_sim_t *m, uint32_t addr, uint32_t value, uint32_t strb) {
  unsigned lane;
  int w;
  switch (addr) {
    case HEG_REG_CTRL:
      if ((strb & 1u) && (value & HEG_CTRL_SNAPSHOT_MASK)) {
        snapshot(m);
      }
      return;
    case HEG_REG_GATE:
      m->gate_enable = merge(m->gate_enable, value, strb) & HEG_GATE_ENABLE_MASK;
      return;
    case HEG_REG_CFG_REGWEN:
      if ((strb & 1u) && !(value & HEG_CFG_REGWEN_EN_MASK)) {
        m->regwen = 0u;
      }
      return;
    case HEG_REG_THROTTLE:
      if (!m->regwen) {
        locked_write(m);
        return;
      }
      m->throttle = merge(m->throttle, value, strb);
      m->throttle_frac = 0;
      return;
    case HEG_REG_CHARGE_MAX_0:
    case HEG_REG_CHARGE_MAX_1:
      if (!m->regwen) {
        locked_write(m);
        return;
      }
      if (addr == HEG_REG_CHARGE_MAX_0) {
        m->charge_max_stage = merge(m->charge_max_stage, value, strb);
      } else {
        m->charge_max = ((uint64_t)merge((uint32_t)(m->charge_max >> 32), value, strb) << 32) |
                        m->charge_max_stage;
      }
      return;
    case HEG_REG_PAUSE:
      m->pause = merge(m->pause, value, strb) & HEG_PAUSE_REQUEST_MASK;
      return;
    case HEG_REG_WDOG_CTRL:
    case HEG_REG_WDOG_PERIOD:
    case HEG_REG_WDOG_WINDOW:
      if (wdog_armed(m)) {
        locked_write(m);
        return;
      }
      if (addr == HEG_REG_WDOG_CTRL) {
        uint32_t code = merge(m->wdog_arm, value, strb) & HEG_WDOG_CTRL_ARM_MASK;
        if (code == HEG_WDOG_CTRL_ARM_ARMED) {
          m->wdog_arm = code;
          m->wdog_count = 0;
        }
      } else if (addr == HEG_REG_WDOG_PERIOD) {
        m->wdog_period = merge(m->wdog_period, value, strb);
      } else {
        m->wdog_window = merge(m->wdog_window, value, strb);
      }
      return;
    case HEG_REG_WDOG_KICK:
      if (wdog_armed(m) && strb == 0xfu && value == HEG_WDOG_KICK_KEY_MAGIC) {
        m->wdog_early = (uint8_t)(m->wdog_count_before < m->wdog_window);
        m->wdog_count = 0;
      }
      return;
    case HEG_REG_INTR_STATE:
      if (strb & 1u) {
        m->intr_state = (m->intr_state & ~(value & INTR_ALL)) | m->intr_set_last;
      }
      return;
    case HEG_REG_INTR_ENABLE:
      if (strb & 1u) {
        m->intr_enable = value & INTR_ALL;
      }
      return;
    case HEG_REG_INTR_TEST:
      if (strb & 1u) {
        m->intr_state |= value & INTR_ALL;
      }
      return;
    case HEG_REG_ID:
    case HEG_REG_VERSION:
    case HEG_REG_STATUS:
    case HEG_REG_GATE_CAUSE:
    case HEG_REG_ERR_STATUS:
    case HEG_REG_WDOG_COUNT:
    case HEG_REG_SATURATION:
      return; /* read-only: accepted, no effect */
    default:
      break;
  }
  for (lane = 0; lane < HEG_LANES; ++lane) {
    if (addr == k_weight_regs[lane]) {
      if (!m->regwen) {
        locked_write(m);
        return;
      }
      m->weights[lane] = merge(m->weights[lane], value, strb);
      return;
    }
    if (wide_index(addr, k_count_snap_regs[lane]) >= 0) {
      return;
    }
  }
  if ((w = wide_index(addr, HEG_REG_LIMIT_0)) >= 0) {
    if (w < 3) {
      m->limit_stage[w] = merge(m->limit_stage[w], value, strb);
    } else {
      m->limit = u128_from_words(m->limit_stage, merge(u128_word(m->limit, 3u), value, strb));
      m->limit_n = u128_not(m->limit);
    }
    return;
  }
  if ((w = wide_index(addr, HEG_REG_LOWWATER_0)) >= 0) {
    if (w < 3) {
      m->lowwater_stage[w] = merge(m->lowwater_stage[w], value, strb);
    } else {
      m->lowwater =
          u128_from_words(m->lowwater_stage, merge(u128_word(m->lowwater, 3u), value, strb));
    }
    return;
  }
  if (wide_index(addr, HEG_REG_ACC_SNAP_0) >= 0) {
    return;
  }
  m->bus_errors++;
}
