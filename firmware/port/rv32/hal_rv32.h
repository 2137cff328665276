/* The rv32 port: the firmware on the openheg SoC (hdl/soc/heg_soc.v), a
 * PicoRV32 with the meter, a UART, a timer, an SPI NOR flash, a TRNG
 * stand-in and an OTP area on one bus. Addresses: heg_soc_map.h (generated
 * by tools/soc/soc_map.py, like the decoder's heg_soc_map.vh). */
#ifndef HEG_HAL_RV32_H
#define HEG_HAL_RV32_H

#include <stdint.h>

#include "heg/heg_hal.h"
#include "heg_soc_map.h"

/* Persistent state lives in the SPI NOR flash, in 4 KiB sectors (the erase
 * unit of the W25Q-class parts boards carry) from STORAGE_OFFSET on. On the
 * ULX3S the same flash holds the bitstream, which ends below 3 MiB. */
#define HEG_RV32_SECTOR_SIZE 4096u
#define HEG_RV32_SECTOR_COUNT 8u
#define HEG_RV32_STORAGE_OFFSET 0x300000u
/* A page program writes at most this many bytes, none across a 256-byte
 * page boundary (the parts' program buffer). */
#define HEG_RV32_PROGRAM_PAGE 256u
/* What start-up paints the unused stack with (see startup.S). */
#define HEG_RV32_STACK_PAINT 0xdeadbeefu

/* The OTP interface of the HAL (SEAMS.md, owned by fw-state): heg_hal.h
 * declares it from the revision that adds it; until then this port declares
 * the same contract so it is built and linked now. */
#ifndef HEG_OTP_SIZE
/* One-time-programmable memory inside the package (fuses): HEG_OTP_SIZE bytes that
 * read 0xFF until programmed. heg_hal_otp_program writes the whole area once; a
 * second program is refused with HEG_STATUS_STORAGE and changes nothing. Survives
 * power cuts and any rewrite of the storage. */
#define HEG_OTP_SIZE 128u
HEG_MUST_USE heg_status_t heg_hal_otp_read(heg_hal_t *hal, uint8_t out[HEG_OTP_SIZE]);
HEG_MUST_USE heg_status_t heg_hal_otp_program(heg_hal_t *hal, const uint8_t data[HEG_OTP_SIZE]);
#endif

struct heg_hal {
  uint32_t storage_offset; /* flash byte address of the first sector */
};

void heg_rv32_hal_init(heg_hal_t *hal);

int heg_rv32_uart_getc(void); /* -1: nothing received */
void heg_rv32_uart_putc(uint8_t byte);

/* The timer block's millisecond count (64 bits, never wraps). */
uint64_t heg_rv32_uptime_ms(void);

/* Bytes of stack ever used, from the paint start-up left (startup.S). */
uint32_t heg_rv32_stack_used(void);

/* Stops the CPU with a trap; the SoC turns a trap into a reset of the whole
 * domain (CPU and meter together), so the firmware boots again. */
__attribute__((noreturn)) void heg_rv32_fault(void);

#endif /* HEG_HAL_RV32_H */
