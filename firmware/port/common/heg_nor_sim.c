/* NOR flash model (see heg_nor_sim.h). */
#include "heg_nor_sim.h"

#include <string.h>

void heg_nor_sim_init(heg_nor_sim_t *nor, uint8_t *data, uint32_t page_size, uint32_t page_count,
                      heg_hbool_t erase_all) {
  nor->data = data;
  nor->page_size = page_size;
  nor->page_count = page_count;
  nor->programs = 0;
  nor->erases = 0;
  if (erase_all == HEG_HTRUE) {
    memset(data, 0xff, (size_t)page_size * page_count);
  }
}

static int in_range(const heg_nor_sim_t *nor, uint32_t offset, size_t len) {
  size_t size = (size_t)nor->page_size * nor->page_count;
  return offset <= size && len <= size - offset;
}

heg_status_t heg_nor_sim_read(const heg_nor_sim_t *nor, uint32_t offset, uint8_t *out,
                              size_t len) {
  if (out == NULL || !in_range(nor, offset, len)) {
    return HEG_STATUS_STORAGE;
  }
  memcpy(out, nor->data + offset, len);
  return HEG_STATUS_OK;
}

heg_status_t heg_nor_sim_program(heg_nor_sim_t *nor, uint32_t offset, const uint8_t *data,
                                 size_t len) {
  size_t i;
  if (data == NULL || !in_range(nor, offset, len) || offset % HEG_NOR_SIM_WORD != 0u ||
      len % HEG_NOR_SIM_WORD != 0u) {
    return HEG_STATUS_STORAGE;
  }
  for (i = 0; i < len; ++i) {
    if (nor->data[offset + i] != 0xffu) {
      return HEG_STATUS_STORAGE; /* erase before write */
    }
  }
  memcpy(nor->data + offset, data, len);
  nor->programs++;
  return HEG_STATUS_OK;
}

heg_status_t heg_nor_sim_erase(heg_nor_sim_t *nor, uint32_t page) {
  if (page >= nor->page_count) {
    return HEG_STATUS_STORAGE;
  }
  memset(nor->data + (size_t)page * nor->page_size, 0xff, nor->page_size);
  nor->erases++;
  return HEG_STATUS_OK;
}

heg_status_t heg_nor_sim_geometry(const heg_nor_sim_t *nor, uint32_t *page_size,
                                  uint32_t *page_count) {
  if (nor == NULL || page_size == NULL || page_count == NULL) {
    return HEG_STATUS_STORAGE;
  }
  *page_size = nor->page_size;
  *page_count = nor->page_count;
  return HEG_STATUS_OK;
}

void heg_otp_sim_init(heg_otp_sim_t *otp, uint8_t *data, heg_hbool_t blank) {
  otp->data = data;
  otp->programs = 0;
  if (blank == HEG_HTRUE) {
    memset(data, 0xff, HEG_OTP_SIZE);
  }
}

heg_status_t heg_otp_sim_read(const heg_otp_sim_t *otp, uint8_t out[HEG_OTP_SIZE]) {
  if (out == NULL) {
    return HEG_STATUS_STORAGE;
  }
  memcpy(out, otp->data, HEG_OTP_SIZE);
  return HEG_STATUS_OK;
}

heg_status_t heg_otp_sim_program(heg_otp_sim_t *otp, const uint8_t data[HEG_OTP_SIZE]) {
  size_t i;
  if (data == NULL) {
    return HEG_STATUS_STORAGE;
  }
  for (i = 0; i < HEG_OTP_SIZE; ++i) {
    if (otp->data[i] != 0xffu) {
      return HEG_STATUS_STORAGE; /* programmed once already */
    }
  }
  memcpy(otp->data, data, HEG_OTP_SIZE);
  otp->programs++;
  return HEG_STATUS_OK;
}

void heg_sim_xorshift_fill(uint32_t *state, uint8_t *out, size_t len) {
  size_t i;
  for (i = 0; i < len; ++i) {
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    out[i] = (uint8_t)x;
  }
}
