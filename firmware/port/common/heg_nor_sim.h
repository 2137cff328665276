/* A NOR flash model over a caller-supplied buffer, for ports without real
 * flash (the posix server, QEMU, the C tests). Same rules as the Python model
 * (sim/openheg_sim/flash.py): erased bytes read 0xFF, erase by whole page,
 * program only aligned 32-bit words that are erased, anything else refused
 * (HEG_STATUS_STORAGE), so a firmware bug cannot hide. C99, no heap/globals.
 * Beside it, a model of the part's one-time-programmable area (heg_hal.h). */
#ifndef HEG_NOR_SIM_H
#define HEG_NOR_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "heg/heg_hal.h"
#include "heg/heg_hardened.h"
#include "heg/heg_wire.h"

#define HEG_NOR_SIM_WORD 4u

typedef struct {
  uint8_t *data; /* page_size * page_count bytes, owned by the caller */
  uint32_t page_size;
  uint32_t page_count;
  uint32_t programs; /* operations done, for wear and tests */
  uint32_t erases;
} heg_nor_sim_t;

/* Binds the model to data; erase_all: HEG_HTRUE fills it with 0xFF. */
void heg_nor_sim_init(heg_nor_sim_t *nor, uint8_t *data, uint32_t page_size, uint32_t page_count,
                      heg_hbool_t erase_all);

HEG_MUST_USE heg_status_t heg_nor_sim_read(const heg_nor_sim_t *nor, uint32_t offset, uint8_t *out,
                                           size_t len);
HEG_MUST_USE heg_status_t heg_nor_sim_program(heg_nor_sim_t *nor, uint32_t offset,
                                              const uint8_t *data, size_t len);
HEG_MUST_USE heg_status_t heg_nor_sim_erase(heg_nor_sim_t *nor, uint32_t page);
/* The part's geometry, as heg_hal_storage_geometry reports it. */
HEG_MUST_USE heg_status_t heg_nor_sim_geometry(const heg_nor_sim_t *nor, uint32_t *page_size,
                                               uint32_t *page_count);

/* The one-time-programmable area over a caller-supplied HEG_OTP_SIZE-byte
 * buffer: reads 0xFF until programmed; one program writes the whole area, and
 * any program while a byte is no longer 0xFF is refused (HEG_STATUS_STORAGE)
 * and changes nothing. Unlike the flash, nothing erases it. */
typedef struct {
  uint8_t *data; /* HEG_OTP_SIZE bytes, owned by the caller */
  uint32_t programs;
} heg_otp_sim_t;

/* Binds the model to data; blank: HEG_HTRUE fills it with 0xFF (an
 * unprogrammed part), else it keeps what data holds (a part programmed
 * before). */
void heg_otp_sim_init(heg_otp_sim_t *otp, uint8_t *data, heg_hbool_t blank);
HEG_MUST_USE heg_status_t heg_otp_sim_read(const heg_otp_sim_t *otp, uint8_t out[HEG_OTP_SIZE]);
HEG_MUST_USE heg_status_t heg_otp_sim_program(heg_otp_sim_t *otp,
                                              const uint8_t data[HEG_OTP_SIZE]);

/* xorshift32 bytes for repeatable runs of ports that have no entropy source
 * (QEMU, benchmarks). Predictable: never for a real device key. */
void heg_sim_xorshift_fill(uint32_t *state, uint8_t *out, size_t len);

#endif /* HEG_NOR_SIM_H */
