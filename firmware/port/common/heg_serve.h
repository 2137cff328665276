/* Answering one received frame on a serial port: the part of a board's serve
 * loop that every MCU port shares (the ports differ in how bytes arrive and
 * when the metering loop runs between frames, not in how a frame is answered). */
#ifndef HEG_SERVE_H
#define HEG_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "heg/heg.h"
#include "heg_frame.h"

/* The port's metering loop turn (heg_poll and whatever the port's hardware
 * model needs with it). */
typedef void (*heg_serve_tick_fn)(heg_ctx_t *ctx);

/* Answers the complete frame in rx: decodes it in place, dispatches it, runs
 * one turn of the metering loop (so the allowance the request made due is
 * granted before the answer leaves), then streams the response frame through
 * put. A frame that does not decode, or that heg_dispatch cannot answer, is
 * line noise and gets no answer: the host's retry asks again. */
void heg_serve_answer(heg_ctx_t *ctx, heg_frame_rx_t *rx, uint8_t *response, size_t response_cap,
                      heg_serve_tick_fn tick, heg_frame_put_fn put, void *put_arg);

#endif /* HEG_SERVE_H */
