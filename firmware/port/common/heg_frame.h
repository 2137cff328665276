/* Byte-stream framing of the device protocol, shared by every serial port.
 *
 * A frame is COBS(message || CRC-32(message), little-endian) followed by one
 * 0x00 delimiter: exactly host/openheg/framing.py, byte for byte. CRC-32 is
 * the IEEE polynomial (zlib.crc32). COBS never emits 0x00 inside a frame, so
 * a receiver that starts mid-stream resynchronises at the next delimiter.
 *
 * C99, no heap, no globals: every buffer belongs to the caller, every length
 * is bounded by HEG_FRAME_MAX_* below.
 */
#ifndef HEG_FRAME_H
#define HEG_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "heg/heg_hardened.h"
#include "heg/heg_wire.h"

#define HEG_FRAME_CRC_SIZE 4u
#define HEG_FRAME_DELIMITER 0x00u
/* Largest message a frame carries (the protocol's limit). */
#define HEG_FRAME_MAX_MESSAGE HEG_MAX_MESSAGE_SIZE
/* Largest frame without its delimiter that a decoder accepts; the same bound
 * as framing.MAX_FRAME_SIZE: COBS adds one byte per 254 and one more. */
#define HEG_FRAME_MAX_SIZE                                                         \
  (HEG_FRAME_MAX_MESSAGE + HEG_FRAME_CRC_SIZE +                                    \
   (HEG_FRAME_MAX_MESSAGE + HEG_FRAME_CRC_SIZE) / 254u + 2u)
/* Bytes heg_frame_encode may write for a message of the largest size,
 * delimiter included. */
#define HEG_FRAME_MAX_ENCODED (HEG_FRAME_MAX_SIZE + 1u)

/* Results. OK is deliberately not 0; each failure has its own value. */
typedef enum {
  HEG_FRAME_OK = 0x0739,
  HEG_FRAME_BAD_ARGUMENT = 0x0b01, /* NULL pointer */
  HEG_FRAME_TOO_LARGE = 0x0b02,    /* message or frame over the bound, or cap too small */
  HEG_FRAME_BAD_COBS = 0x0b03,     /* a code byte runs past the end, or a 0x00 inside */
  HEG_FRAME_TOO_SHORT = 0x0b04,    /* decoded to fewer bytes than the CRC */
  HEG_FRAME_BAD_CRC = 0x0b05       /* CRC mismatch: line noise */
} heg_frame_status_t;

/* CRC-32/IEEE (reflected 0xEDB88320, init and final xor 0xFFFFFFFF), the value
 * zlib.crc32 returns. crc is the running value: 0 to start; pass the previous
 * result to continue over more bytes. */
uint32_t heg_frame_crc32(uint32_t crc, const uint8_t *data, size_t len);

/* Encodes msg (len <= HEG_FRAME_MAX_MESSAGE) into out as one whole frame,
 * delimiter included. cap must be at least HEG_FRAME_MAX_ENCODED, or enough
 * for this message (len + 4 + (len + 4) / 254 + 2). */
HEG_MUST_USE heg_frame_status_t heg_frame_encode(const uint8_t *msg, size_t len, uint8_t *out,
                                                 size_t cap, size_t *out_len);

/* Receives an encoded frame one byte at a time (a UART's transmit register,
 * a socket). arg is the caller's, passed back unchanged. */
typedef void (*heg_frame_put_fn)(void *arg, uint8_t byte);

/* Encodes msg (len <= HEG_FRAME_MAX_MESSAGE) as one whole frame, delimiter
 * included, straight to put: the same bytes as heg_frame_encode, with no
 * output buffer (the CRC is computed as the frame goes out). Nothing is put
 * unless the result is HEG_FRAME_OK. heg_frame_encode is this encoder
 * writing into a buffer. */
HEG_MUST_USE heg_frame_status_t heg_frame_encode_stream(const uint8_t *msg, size_t len,
                                                        heg_frame_put_fn put, void *arg);

/* Decodes one frame given without its delimiter (len <= HEG_FRAME_MAX_SIZE)
 * into msg (at most cap bytes), checks and strips the CRC. On any failure
 * *msg_len is 0 and msg's content is unspecified. */
HEG_MUST_USE heg_frame_status_t heg_frame_decode(const uint8_t *frame, size_t len, uint8_t *msg,
                                                 size_t cap, size_t *msg_len);

/* heg_frame_decode over the frame's own bytes: the message (CRC stripped)
 * replaces frame[0..*msg_len); COBS decoding never writes ahead of where it
 * reads, so no second buffer is needed. Same results as heg_frame_decode; on
 * a failure *msg_len is 0 and frame's content is unspecified. */
HEG_MUST_USE heg_frame_status_t heg_frame_decode_in_place(uint8_t *frame, size_t len,
                                                          size_t *msg_len);

/* A receiver that assembles frames from a byte stream one byte at a time.
 * Caller-owned; no pointers inside, so it can be copied or zeroed. */
typedef struct {
  uint8_t buf[HEG_FRAME_MAX_SIZE];
  size_t len;
  uint32_t overflowed; /* HEG_HTRUE while discarding an oversized frame */
  uint32_t dropped;    /* frames discarded so far (oversized), saturating */
  uint32_t complete;   /* HEG_HTRUE: buf holds a frame until the next push */
} heg_frame_rx_t;

typedef enum {
  HEG_FRAME_RX_PENDING = 0x0c01,  /* no delimiter yet */
  HEG_FRAME_RX_COMPLETE = 0x0c02, /* buf[0..len) is one frame, kept until the next push */
  HEG_FRAME_RX_DROPPED = 0x0c03   /* an oversized frame ended here and was discarded */
} heg_frame_rx_event_t;

void heg_frame_rx_reset(heg_frame_rx_t *rx);

/* Feeds one received byte. An empty frame (two delimiters in a row) is
 * skipped, never reported. */
heg_frame_rx_event_t heg_frame_rx_push(heg_frame_rx_t *rx, uint8_t byte);

#endif /* HEG_FRAME_H */
