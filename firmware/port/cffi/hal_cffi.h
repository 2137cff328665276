/* Host-emulation port: the HAL calls back into Python (cffi extern "Python"),
 * so tests can model the meter and flash and inject faults. These callbacks
 * are defined by the cffi-generated module (sim/openheg_sim/firmware_build.py);
 * each returns 0 on success, nonzero when Python raised (the exception is
 * kept by the Python side and re-raised once the firmware call returns). */
#ifndef HEG_HAL_CFFI_H
#define HEG_HAL_CFFI_H

#include <stddef.h>
#include <stdint.h>

#include "heg/heg_hal.h"

uint32_t heg_py_reg_read(void *handle, uint32_t offset);
void heg_py_reg_write(void *handle, uint32_t offset, uint32_t value);
uint32_t heg_py_link_read(void *handle, uint32_t offset);
void heg_py_link_write(void *handle, uint32_t offset, uint32_t value);
uint32_t heg_py_link_clock_hz(void *handle);
int heg_py_storage_geometry(void *handle, uint32_t *page_size, uint32_t *page_count);
int heg_py_storage_read(void *handle, uint32_t offset, uint8_t *out, size_t len);
int heg_py_storage_program(void *handle, uint32_t offset, const uint8_t *data, size_t len);
int heg_py_storage_erase(void *handle, uint32_t page);
int heg_py_otp_read(void *handle, uint8_t *out);     /* HEG_OTP_SIZE bytes */
int heg_py_otp_program(void *handle, const uint8_t *data); /* HEG_OTP_SIZE bytes */
int heg_py_random(void *handle, uint8_t *out, size_t len);
uint64_t heg_py_time_now(void *handle);
uint64_t heg_py_uptime_ms(void *handle);
uint64_t heg_py_reference_ms(void *handle);

/* Bytes a heg_hal_t of this port needs, and binding it to a Python handle. */
size_t heg_cffi_hal_size(void);
void heg_cffi_hal_bind(heg_hal_t *hal, void *handle);
/* After heg_cffi_hal_bind: the storage calls read and program page_size *
 * page_count bytes at pages (owned by the caller, kept as they are) through
 * the C NOR model (port/common/heg_nor_sim.h, the rules of the Python one)
 * instead of calling Python. */
void heg_cffi_hal_bind_storage(heg_hal_t *hal, uint8_t *pages, uint32_t page_size,
                               uint32_t page_count);

#endif /* HEG_HAL_CFFI_H */
