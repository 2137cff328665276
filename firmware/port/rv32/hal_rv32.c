/* heg_hal.h on the openheg SoC (hdl/soc/heg_soc.v).
 *
 * Every access below is one bus cycle of the PicoRV32 on the SoC's bus: the
 * meter's registers are the RTL block's (hdl/rtl/heg_meter.v through the
 * core's AXI4-Lite adapter), storage is an SPI NOR flash driven byte by byte
 * through the SPI master (W25Q-class commands; in simulation the flash model
 * of the Verilator harness), the OTP area is the SoC's fuse block, and random
 * bytes come from the SoC's TRNG STAND-IN, a deterministic generator that is
 * NOT SECRET (so neither is a device key made from it): an FPGA has no
 * entropy source this design could trust, and a product puts a real TRNG at
 * the same address. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hal_rv32.h"
#include "hardened.h"

/* W25Q-class SPI NOR commands (JEDEC basic set). */
#define NOR_READ 0x03u
#define NOR_PAGE_PROGRAM 0x02u
#define NOR_SECTOR_ERASE 0x20u
#define NOR_READ_STATUS 0x05u
#define NOR_WRITE_ENABLE 0x06u
#define NOR_STATUS_BUSY 0x01u
#define NOR_WORD 4u

HEG_STATIC_ASSERT(HEG_OTP_SIZE == HEG_SOC_OTP_WORDS * 4u, otp_size_matches_the_fuse_block);
HEG_STATIC_ASSERT(HEG_RV32_SECTOR_SIZE % HEG_RV32_PROGRAM_PAGE == 0u, sectors_hold_whole_pages);

static volatile uint32_t *reg(uint32_t base, uint32_t offset) {
  return (volatile uint32_t *)(uintptr_t)(base + offset);
}

void heg_rv32_hal_init(heg_hal_t *hal) { hal->storage_offset = HEG_RV32_STORAGE_OFFSET; }

int heg_rv32_uart_getc(void) {
  uint32_t data = *reg(HEG_SOC_UART_BASE, HEG_SOC_UART_DATA);
  if ((data & HEG_SOC_UART_DATA_VALID) == 0u) {
    return -1;
  }
  return (int)(data & 0xffu);
}

void heg_rv32_uart_putc(uint8_t byte) {
  while ((*reg(HEG_SOC_UART_BASE, HEG_SOC_UART_STATUS) & HEG_SOC_UART_STATUS_TX_BUSY) != 0u) {
  }
  *reg(HEG_SOC_UART_BASE, HEG_SOC_UART_DATA) = byte;
}

uint64_t heg_rv32_uptime_ms(void) {
  /* Reading the low word latches the high word: one coherent 64-bit value. */
  uint32_t lo = *reg(HEG_SOC_TIMER_BASE, HEG_SOC_TIMER_UPTIME_LO);
  uint32_t hi = *reg(HEG_SOC_TIMER_BASE, HEG_SOC_TIMER_UPTIME_HI);
  return ((uint64_t)hi << 32) | lo;
}

uint64_t heg_hal_uptime_ms(heg_hal_t *hal) {
  (void)hal;
  return heg_rv32_uptime_ms();
}

/* The SoC's reference counter (hdl/soc/heg_soc_refclk.v): ms counted on
 * refclk_i, an oscillator inside the package, not on the board's clock.
 * Reading the low word latches the high word, as for uptime. */
uint64_t heg_hal_reference_ms(heg_hal_t *hal) {
  uint32_t lo;
  uint32_t hi;
  (void)hal;
  lo = *reg(HEG_SOC_REFCLK_BASE, HEG_SOC_REFCLK_MS_LO);
  hi = *reg(HEG_SOC_REFCLK_BASE, HEG_SOC_REFCLK_MS_HI);
  return ((uint64_t)hi << 32) | lo;
}

/* No real-time clock on the SoC: the firmware decides nothing on wall time
 * (trusted time is a signed beacon plus uptime). */
uint64_t heg_hal_time_now(heg_hal_t *hal) {
  (void)hal;
  return 0u;
}

uint32_t heg_hal_reg_read(heg_hal_t *hal, uint32_t offset) {
  (void)hal;
  return *reg(HEG_SOC_METER_BASE, offset);
}

void heg_hal_reg_write(heg_hal_t *hal, uint32_t offset, uint32_t value) {
  (void)hal;
  *reg(HEG_SOC_METER_BASE, offset) = value;
}

/* The limiter (hdl/rtl/heg_link.v) shares the SoC's clock, whose frequency
 * the timer block holds as a synthesis parameter (CLK_HZ). */
uint32_t heg_hal_link_read(heg_hal_t *hal, uint32_t offset) {
  (void)hal;
  return *reg(HEG_SOC_LIMITER_BASE, offset);
}

void heg_hal_link_write(heg_hal_t *hal, uint32_t offset, uint32_t value) {
  (void)hal;
  *reg(HEG_SOC_LIMITER_BASE, offset) = value;
}

uint32_t heg_hal_link_clock_hz(heg_hal_t *hal) {
  (void)hal;
  return *reg(HEG_SOC_TIMER_BASE, HEG_SOC_TIMER_CLK_HZ);
}

heg_status_t heg_hal_random(heg_hal_t *hal, uint8_t *out, size_t len) {
  (void)hal;
  if (out == NULL) {
    return HEG_STATUS_BAD_REQUEST;
  }
  while (len != 0u) {
    uint32_t word = *reg(HEG_SOC_TRNG_BASE, HEG_SOC_TRNG_DATA);
    size_t n = len < sizeof(word) ? len : sizeof(word);
    memcpy(out, &word, n);
    out += n;
    len -= n;
  }
  return HEG_STATUS_OK;
}

/* ---- SPI NOR flash ---------------------------------------------------- */

static uint8_t spi_transfer(uint8_t out) {
  *reg(HEG_SOC_SPI_BASE, HEG_SOC_SPI_DATA) = out;
  while ((*reg(HEG_SOC_SPI_BASE, HEG_SOC_SPI_STATUS) & HEG_SOC_SPI_STATUS_BUSY) != 0u) {
  }
  return (uint8_t)*reg(HEG_SOC_SPI_BASE, HEG_SOC_SPI_DATA);
}

static void spi_select(uint32_t asserted) { *reg(HEG_SOC_SPI_BASE, HEG_SOC_SPI_SELECT) = asserted; }

/* Selects the part and sends a command with a 24-bit address. */
static void nor_command(uint8_t command, uint32_t address) {
  spi_select(1u);
  (void)spi_transfer(command);
  (void)spi_transfer((uint8_t)(address >> 16));
  (void)spi_transfer((uint8_t)(address >> 8));
  (void)spi_transfer((uint8_t)address);
}

static void nor_write_enable(void) {
  spi_select(1u);
  (void)spi_transfer(NOR_WRITE_ENABLE);
  spi_select(0u);
}

/* Program and erase run inside the part; it answers busy until done. */
static void nor_wait_ready(void) {
  uint8_t status;
  spi_select(1u);
  (void)spi_transfer(NOR_READ_STATUS);
  do {
    status = spi_transfer(0xffu);
  } while ((status & NOR_STATUS_BUSY) != 0u);
  spi_select(0u);
}

static void nor_read(uint32_t address, uint8_t *out, size_t len) {
  size_t i;
  nor_command(NOR_READ, address);
  for (i = 0; i < len; ++i) {
    out[i] = spi_transfer(0xffu);
  }
  spi_select(0u);
}

static int in_storage(uint32_t offset, size_t len) {
  const uint32_t size = HEG_RV32_SECTOR_SIZE * HEG_RV32_SECTOR_COUNT;
  return offset <= size && len <= (size_t)(size - offset);
}

heg_status_t heg_hal_storage_geometry(heg_hal_t *hal, uint32_t *page_size, uint32_t *page_count) {
  (void)hal;
  if (page_size == NULL || page_count == NULL) {
    return HEG_STATUS_STORAGE;
  }
  *page_size = HEG_RV32_SECTOR_SIZE;
  *page_count = HEG_RV32_SECTOR_COUNT;
  return HEG_STATUS_OK;
}

heg_status_t heg_hal_storage_read(heg_hal_t *hal, uint32_t offset, uint8_t *out, size_t len) {
  if (out == NULL || !in_storage(offset, len)) {
    return HEG_STATUS_STORAGE;
  }
  nor_read(hal->storage_offset + offset, out, len);
  return HEG_STATUS_OK;
}

/* The HAL's rule (program only erased words) is checked here, before any
 * byte is sent: a real NOR part would silently AND the data into what is
 * there, and a firmware bug must not hide behind that. After programming,
 * the bytes are read back: a program the part did not carry out (a cut, a
 * worn sector) is reported, not trusted. */
heg_status_t heg_hal_storage_program(heg_hal_t *hal, uint32_t offset, const uint8_t *data,
                                     size_t len) {
  uint8_t check[HEG_RV32_PROGRAM_PAGE];
  size_t done = 0;
  if (data == NULL || !in_storage(offset, len) || offset % NOR_WORD != 0u ||
      len % NOR_WORD != 0u) {
    return HEG_STATUS_STORAGE;
  }
  while (done < len) {
    uint32_t at = offset + (uint32_t)done;
    size_t room = HEG_RV32_PROGRAM_PAGE - (at % HEG_RV32_PROGRAM_PAGE);
    size_t n = len - done < room ? len - done : room;
    size_t i;
    nor_read(hal->storage_offset + at, check, n);
    for (i = 0; i < n; ++i) {
      if (check[i] != 0xffu) {
        return HEG_STATUS_STORAGE; /* erase before write */
      }
    }
    done += n;
  }
  for (done = 0; done < len;) {
    uint32_t at = offset + (uint32_t)done;
    size_t room = HEG_RV32_PROGRAM_PAGE - (at % HEG_RV32_PROGRAM_PAGE);
    size_t n = len - done < room ? len - done : room;
    size_t i;
    nor_write_enable();
    nor_command(NOR_PAGE_PROGRAM, hal->storage_offset + at);
    for (i = 0; i < n; ++i) {
      (void)spi_transfer(data[done + i]);
    }
    spi_select(0u);
    nor_wait_ready();
    nor_read(hal->storage_offset + at, check, n);
    if (memcmp(check, data + done, n) != 0) {
      return HEG_STATUS_STORAGE;
    }
    done += n;
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_hal_storage_erase(heg_hal_t *hal, uint32_t page) {
  if (page >= HEG_RV32_SECTOR_COUNT) {
    return HEG_STATUS_STORAGE;
  }
  nor_write_enable();
  nor_command(NOR_SECTOR_ERASE, hal->storage_offset + page * HEG_RV32_SECTOR_SIZE);
  spi_select(0u);
  nor_wait_ready();
  return HEG_STATUS_OK;
}

/* ---- OTP ------------------------------------------------------------- */

heg_status_t heg_hal_otp_read(heg_hal_t *hal, uint8_t out[HEG_OTP_SIZE]) {
  uint32_t i;
  (void)hal;
  if (out == NULL) {
    return HEG_STATUS_STORAGE;
  }
  for (i = 0; i < HEG_SOC_OTP_WORDS; ++i) {
    uint32_t word = *reg(HEG_SOC_OTP_BASE, HEG_SOC_OTP_WORD0 + 4u * i);
    memcpy(out + 4u * i, &word, sizeof(word));
  }
  return HEG_STATUS_OK;
}

/* The fuse block itself refuses a second burn; the port refuses it first,
 * so a refused program does not even set the block's REFUSED flag. */
heg_status_t heg_hal_otp_program(heg_hal_t *hal, const uint8_t data[HEG_OTP_SIZE]) {
  uint8_t burnt[HEG_OTP_SIZE];
  uint32_t i;
  if (data == NULL ||
      (*reg(HEG_SOC_OTP_BASE, HEG_SOC_OTP_STATUS) & HEG_SOC_OTP_STATUS_PROGRAMMED) != 0u) {
    return HEG_STATUS_STORAGE;
  }
  for (i = 0; i < HEG_SOC_OTP_WORDS; ++i) {
    uint32_t word;
    memcpy(&word, data + 4u * i, sizeof(word));
    *reg(HEG_SOC_OTP_BASE, HEG_SOC_OTP_WORD0 + 4u * i) = word;
  }
  *reg(HEG_SOC_OTP_BASE, HEG_SOC_OTP_PROGRAM) = HEG_SOC_OTP_PROGRAM_KEY;
  if ((*reg(HEG_SOC_OTP_BASE, HEG_SOC_OTP_STATUS) & HEG_SOC_OTP_STATUS_PROGRAMMED) == 0u ||
      heg_hal_otp_read(hal, burnt) != HEG_STATUS_OK || memcmp(burnt, data, HEG_OTP_SIZE) != 0) {
    return HEG_STATUS_STORAGE;
  }
  return HEG_STATUS_OK;
}
