/* Platform interface of the openheg firmware.
 *
 * A port supplies these functions at link time (firmware/port/<name>/); the
 * firmware never calls the platform any other way. heg_hal_t is owned by the
 * port and opaque to the firmware, which only passes it back.
 */
#ifndef HEG_HAL_H
#define HEG_HAL_H

#include <stddef.h>
#include <stdint.h>

#include "heg/heg_hardened.h"
#include "heg/heg_wire.h"

typedef struct heg_hal heg_hal_t;

/* Meter registers (AXI4-Lite). offset is a byte offset from heg_regs.h. */
uint32_t heg_hal_reg_read(heg_hal_t *hal, uint32_t offset);
void heg_hal_reg_write(heg_hal_t *hal, uint32_t offset, uint32_t value);

/* The interconnect limiter's registers (heg_link, AXI4-Lite): offset is a byte
 * offset from heg_link_regs.h. Every port has one, as it has a meter: the
 * firmware loads its RATE and BURST from the policy in force and locks them
 * (link.c). heg_hal_link_clock_hz is the frequency of the clock the limiter
 * counts cycles of (its RATE is wire bytes per cycle): a property of the part,
 * fixed in the port, never read from the board. */
uint32_t heg_hal_link_read(heg_hal_t *hal, uint32_t offset);
void heg_hal_link_write(heg_hal_t *hal, uint32_t offset, uint32_t value);
uint32_t heg_hal_link_clock_hz(heg_hal_t *hal);

/* NOR-flash-like storage, addressed in bytes from its start.
 * Erased bytes read 0xFF. Program may only clear bits and must target erased
 * words (a port reports anything else as HEG_STATUS_STORAGE); offset and
 * length of a program are multiples of 4. Erase works on whole pages. */
HEG_MUST_USE heg_status_t heg_hal_storage_geometry(heg_hal_t *hal, uint32_t *page_size,
                                                   uint32_t *page_count);
HEG_MUST_USE heg_status_t heg_hal_storage_read(heg_hal_t *hal, uint32_t offset, uint8_t *out,
                                               size_t len);
HEG_MUST_USE heg_status_t heg_hal_storage_program(heg_hal_t *hal, uint32_t offset,
                                                  const uint8_t *data, size_t len);
HEG_MUST_USE heg_status_t heg_hal_storage_erase(heg_hal_t *hal, uint32_t page);

/* One-time-programmable memory inside the package (fuses): HEG_OTP_SIZE bytes that
 * read 0xFF until programmed. heg_hal_otp_program writes the whole area once; a
 * second program is refused with HEG_STATUS_STORAGE and changes nothing. Survives
 * power cuts and any rewrite of the storage. (A power cut during the one program
 * may leave it partly written; the firmware checks what it reads back and never
 * trusts such an area.) */
#define HEG_OTP_SIZE 128u
HEG_MUST_USE heg_status_t heg_hal_otp_read(heg_hal_t *hal, uint8_t out[HEG_OTP_SIZE]);
HEG_MUST_USE heg_status_t heg_hal_otp_program(heg_hal_t *hal, const uint8_t data[HEG_OTP_SIZE]);

/* Fills out with len bytes from a cryptographically secure source. */
HEG_MUST_USE heg_status_t heg_hal_random(heg_hal_t *hal, uint8_t *out, size_t len);

/* Milliseconds since power-up from a monotonic source (never goes back while
 * powered; restarts at power-up), counted on the part's clock input: the
 * crystal or clock the board feeds it, precise (the policy's clock_drift_ppm)
 * but the operator's to slow, stop or speed. Trusted time is an
 * authority-signed beacon plus this uptime, checked against the reference
 * below, never a wall clock. */
uint64_t heg_hal_uptime_ms(heg_hal_t *hal);

/* Milliseconds since power-up counted on the reference oscillator: one inside
 * the package (an RC oscillator, as the oscillator STM32's clock security
 * system or OpenTitan's clkmgr measurement counters check clocks against),
 * on no input the board drives. Monotonic, restarts at power-up with uptime.
 * Contract (the firmware's baseline, openheg.wire): over any stretch, the
 * true time elapsed differs from the reading's change by at most
 * HEG_REFERENCE_TOLERANCE_PPM of that change plus HEG_REFERENCE_RESOLUTION_MS
 * (as the policy's clock_drift_ppm bounds uptime's), over
 * the part's rated temperature, voltage and life; a port whose oscillator is
 * looser trims it at manufacture. The firmware bounds time by both clocks and
 * latches tamper when they disagree (timekeeping.c). */
uint64_t heg_hal_reference_ms(heg_hal_t *hal);

/* Wall-clock unix seconds, where a port has one. The firmware makes no
 * decision on it (it cannot be trusted); kept for ports' diagnostics. */
uint64_t heg_hal_time_now(heg_hal_t *hal);

#endif /* HEG_HAL_H */
