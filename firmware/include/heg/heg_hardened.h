/* Hardened booleans: every security decision is one of two values far apart
 * in Hamming distance (8 bits differ), never 0/1, so that a single glitched
 * bit or a zeroed variable cannot read as "true". */
#ifndef HEG_HARDENED_H
#define HEG_HARDENED_H

#include <stdint.h>

typedef uint32_t heg_hbool_t;

#define HEG_HTRUE ((heg_hbool_t)0x739u)
#define HEG_HFALSE ((heg_hbool_t)0x1d4u)

#if defined(__GNUC__) || defined(__clang__)
#define HEG_MUST_USE __attribute__((warn_unused_result))
#else
#define HEG_MUST_USE
#endif

#endif /* HEG_HARDENED_H */
