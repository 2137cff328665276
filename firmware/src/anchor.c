/* The provisioning anchor in OTP (layout and why in internal.h). */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

HEG_STATIC_ASSERT(sizeof(heg_anchor_t) == HEG_OTP_SIZE, anchor_is_the_whole_otp_area);

heg_status_t heg_anchor_read(heg_ctx_t *ctx, heg_anchor_t *anchor, heg_hbool_t *anchored) {
  uint8_t digest[HEG_DIGEST_SIZE];
  const uint8_t *bytes = (const uint8_t *)anchor;
  size_t i;
  *anchored = HEG_HFALSE;
  HEG_TRY(heg_hal_otp_read(ctx->hal, (uint8_t *)anchor));
  for (i = 0; i < sizeof(*anchor) && bytes[i] == 0xffu; ++i) {
  }
  if (i == sizeof(*anchor)) {
    return HEG_STATUS_OK; /* never programmed */
  }
  HEG_TRY(heg_crypto_digest(digest, bytes, offsetof(heg_anchor_t, digest)));
  if (anchor->magic != HEG_ANCHOR_MAGIC || anchor->layout != HEG_ANCHOR_LAYOUT ||
      heg_bytes_equal(digest, anchor->digest, sizeof(digest)) != HEG_HTRUE) {
    return HEG_STATUS_OTP_INVALID;
  }
  *anchored = HEG_HTRUE;
  return HEG_STATUS_OK;
}

heg_status_t heg_anchor_program(heg_ctx_t *ctx) {
  heg_anchor_t anchor;
  heg_hbool_t anchored = HEG_HFALSE;
  HEG_TRY(heg_anchor_read(ctx, &anchor, &anchored));
  if (anchored == HEG_HTRUE) {
    return heg_bytes_equal(anchor.vendor_key, ctx->ps.vendor_key, HEG_KEY_SIZE) == HEG_HTRUE
               ? HEG_STATUS_OK
               : HEG_STATUS_OTP_INVALID;
  }
  memset(&anchor, 0xff, sizeof(anchor));
  anchor.magic = HEG_ANCHOR_MAGIC;
  anchor.layout = HEG_ANCHOR_LAYOUT;
  memcpy(anchor.vendor_key, ctx->ps.vendor_key, HEG_KEY_SIZE);
  memcpy(anchor.first_device_id, ctx->device_pk, HEG_KEY_SIZE);
  HEG_TRY(heg_crypto_digest(anchor.digest, (const uint8_t *)&anchor,
                            offsetof(heg_anchor_t, digest)));
  HEG_TRY(heg_hal_otp_program(ctx->hal, (const uint8_t *)&anchor));
  /* Only an anchor that reads back whole counts as programmed. */
  HEG_TRY(heg_anchor_read(ctx, &anchor, &anchored));
  return anchored == HEG_HTRUE ? HEG_STATUS_OK : HEG_STATUS_OTP_INVALID;
}
