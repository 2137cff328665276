/* Planted weaknesses, for the fault campaign's own test (tests/fault/) and
 * never for a shipped image: stand-ins for libsodium's Ed25519 verification
 * that the crypto port calls in a mutant harness image, whose crypto_port.c
 * is compiled with
 *   -Dcrypto_sign_ed25519_verify_detached=heg_fault_planted_verify
 * (firmware/port/cortex_m4/fault_harness.mk). Each mutant shows the campaign
 * catching a weakness it must catch:
 *   HEG_FAULT_PLANTED_ACCEPT_ALL  the library's verdict is ignored: a forged
 *                                 record is accepted without any fault;
 *   HEG_FAULT_PLANTED_ONE_BRANCH  the real verdict, reduced to one
 *                                 conditional: a single flipped branch
 *                                 passes a forged signature. */
#include <sodium.h>

int heg_fault_planted_verify(const unsigned char *sig, const unsigned char *m,
                             unsigned long long mlen, const unsigned char *pk);

#if defined(HEG_FAULT_PLANTED_ACCEPT_ALL)

int heg_fault_planted_verify(const unsigned char *sig, const unsigned char *m,
                             unsigned long long mlen, const unsigned char *pk) {
  int ignored = crypto_sign_ed25519_verify_detached(sig, m, mlen, pk);
  (void)ignored;
  return 0;
}

#elif defined(HEG_FAULT_PLANTED_ONE_BRANCH)

/* noinline: its instructions stay its own (the test faults only them).
 * volatile, and the test against -1 (libsodium returns 0 or -1): otherwise
 * the compiler computes the verdict without a branch (subs, it ne, negs) or
 * stores the library's own 0, and the weakness is the one branch. */
__attribute__((noinline)) int heg_fault_planted_verify(const unsigned char *sig,
                                                       const unsigned char *m,
                                                       unsigned long long mlen,
                                                       const unsigned char *pk) {
  volatile int verdict = -1;
  if (crypto_sign_ed25519_verify_detached(sig, m, mlen, pk) != -1) {
    verdict = 0;
  }
  return verdict;
}

#else
#error "fault_planted.c: define HEG_FAULT_PLANTED_ACCEPT_ALL or HEG_FAULT_PLANTED_ONE_BRANCH"
#endif
