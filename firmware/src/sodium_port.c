/* One of libsodium's functions, defined here on smaller code for flash
 * (issue 10): the linker binds libsodium's Ed25519 verify to it, and
 * libsodium's own is not linked (firmware/firmware.mk says how).
 *
 * sc25519_reduce: libsodium's 21-bit-limb reduction (5.7 KB on RV32) is
 * replaced by Monocypher's crypto_eddsa_reduce, which the signing side links
 * anyway. Both libraries are the audited ones DESIGN.md allows; SHA-512 stays
 * libsodium's (docs/soc.md says why a smaller one was measured and not
 * taken). */
#include <monocypher.h>

#include "sodium_port.h"

/* Monocypher reads all 64 bytes before it writes the 32 of the result, so
 * the reduction can be done in place. */
void sc25519_reduce(unsigned char s[64]) { crypto_eddsa_reduce(s, s); }
