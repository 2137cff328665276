/* Re-checking security decisions. A decision that grants something (a
 * signature is valid, a license is accepted, the gate may open) is checked
 * once to branch and again, through a volatile read the compiler cannot
 * merge with the first, right before acting. A mismatch means the first
 * check was skipped or glitched. */
#ifndef HEG_SRC_HARDENED_H
#define HEG_SRC_HARDENED_H

#include "heg/heg_hardened.h"
#include "heg/heg_wire.h"

#define HEG_HARDENED_CHECK_TRUE(decision)                 \
  do {                                                    \
    volatile heg_hbool_t heg_recheck_ = (decision);       \
    if (heg_recheck_ != HEG_HTRUE) {                      \
      return HEG_STATUS_FAULT_DETECTED;                   \
    }                                                     \
  } while (0)

/* Compile-time assertion usable at file scope in C99. */
#define HEG_STATIC_ASSERT(cond, name) typedef char heg_static_assert_##name[(cond) ? 1 : -1]

/* Propagates any status that is not OK. */
#define HEG_TRY(expr)                    \
  do {                                   \
    heg_status_t heg_try_ = (expr);      \
    if (heg_try_ != HEG_STATUS_OK) {     \
      return heg_try_;                   \
    }                                    \
  } while (0)

#endif /* HEG_SRC_HARDENED_H */
