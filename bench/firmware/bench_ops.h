/* The operations the firmware benchmarks count, shared by the host
 * (callgrind) and Cortex-M4 (unicorn) drivers. */
#ifndef HEG_BENCH_OPS_H
#define HEG_BENCH_OPS_H

#include <stdint.h>

enum {
  HEG_BENCH_NOTHING = 0,          /* call overhead of the harness */
  HEG_BENCH_BARE_VERIFY = 1,      /* libsodium crypto_sign_verify_detached, one signature */
  HEG_BENCH_LICENSE_VERIFY = 2,   /* firmware: strict parse + crypto-port verify of the license */
  HEG_BENCH_BARE_SIGN = 3,        /* libsodium crypto_sign_detached of an attestation body */
  HEG_BENCH_ATTEST_SIGN = 4,      /* firmware: crypto-port sign of the same body */
  HEG_BENCH_MONOCYPHER_SIGN = 5   /* Monocypher's own crypto_eddsa_sign of the same body */
};

/* Prepares keys and records (not counted). Returns 0 on success. */
int heg_bench_setup(void);

/* Runs one operation; returns 0 when it gave the expected verdict. */
int heg_bench_run(uint32_t mode);

#endif /* HEG_BENCH_OPS_H */
