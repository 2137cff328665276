/* heg_link register model: see heg_link_sim.h. */
#include "heg_link_sim.h"

void heg_link_sim_reset(heg_link_sim_t *link) {
  link->regwen = HEG_LINK_LINK_REGWEN_EN_RESET;
  link->rate = HEG_LINK_RATE_BYTES_PER_CYCLE_RESET;
  link->burst = HEG_LINK_BURST_BYTES_RESET;
  link->locked_writes = 0u;
}

uint32_t heg_link_sim_read(const heg_link_sim_t *link, uint32_t offset) {
  switch (offset) {
  case HEG_LINK_REG_ID:
    return HEG_LINK_ID_MAGIC_RESET;
  case HEG_LINK_REG_VERSION:
    return HEG_LINK_VERSION_MAJOR_RESET << HEG_LINK_VERSION_MAJOR_SHIFT;
  case HEG_LINK_REG_LINK_REGWEN:
    return link->regwen;
  case HEG_LINK_REG_RATE:
    return link->rate;
  case HEG_LINK_REG_BURST:
    return link->burst;
  case HEG_LINK_REG_BEAT_COST:
    return HEG_LINK_SIM_BEAT_COST;
  case HEG_LINK_REG_ERR_STATUS:
    return link->locked_writes;
  default: /* BYTES_LO/HI: no stream runs through this model */
    return 0u;
  }
}

void heg_link_sim_write(heg_link_sim_t *link, uint32_t offset, uint32_t value) {
  if (offset == HEG_LINK_REG_LINK_REGWEN) {
    link->regwen &= value & HEG_LINK_LINK_REGWEN_EN_MASK; /* write zero to clear */
  } else if (offset == HEG_LINK_REG_RATE || offset == HEG_LINK_REG_BURST) {
    if (link->regwen == 0u) {
      if (link->locked_writes < HEG_LINK_ERR_STATUS_LOCKED_WRITES_MASK) {
        link->locked_writes += 1u;
      }
    } else if (offset == HEG_LINK_REG_RATE) {
      link->rate = value;
    } else {
      link->burst = value & HEG_LINK_BURST_BYTES_MASK;
    }
  }
}
