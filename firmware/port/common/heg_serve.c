/* heg_serve.h: answering one received frame, the same on every MCU port. */
#include "heg_serve.h"

void heg_serve_answer(heg_ctx_t *ctx, heg_frame_rx_t *rx, uint8_t *response, size_t response_cap,
                      heg_serve_tick_fn tick, heg_frame_put_fn put, void *put_arg) {
  size_t req_len = 0;
  size_t resp_len = 0;
  if (heg_frame_decode_in_place(rx->buf, rx->len, &req_len) != HEG_FRAME_OK ||
      heg_dispatch(ctx, rx->buf, req_len, response, response_cap, &resp_len) != HEG_STATUS_OK) {
    return; /* line noise: dropped */
  }
  tick(ctx);
  if (heg_frame_encode_stream(response, resp_len, put, put_arg) != HEG_FRAME_OK) {
    return; /* cannot happen: a response fits the protocol's bound */
  }
}
