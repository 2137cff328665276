/* Hardened decisions: the one pattern by which every command that grants
 * compute (INSTALL_LICENSE, ORDER, INSTALL_POLICY) decides, so that one
 * skipped instruction or one flipped branch cannot make it grant (issue 9
 * item 7; docs/fault.md measures it, docs/security.md states it).
 *
 *  1. A decision is a heg_hbool_t (HEG_HTRUE and HEG_HFALSE are 8 bits
 *     apart), never 0/1, and every variable that holds one starts at
 *     HEG_HFALSE: refusing is the default, granting is written last.
 *  2. A command's whole authorization is one function,
 *     <record>_authorization(..., heg_hbool_t *granted), over the parsed
 *     record and its verified signature set: it returns the first rule's
 *     refusal, and sets *granted to HEG_HTRUE only after every rule passed.
 *  3. The command evaluates it twice: once for its answer (HEG_TRY, then
 *     HEG_HARDENED_CHECK_TRUE on the decision), and again at the commit
 *     point, before anything changes, with HEG_HARDENED_RECHECK: a compiler
 *     barrier first, so that -Os -flto recomputes every rule from memory
 *     rather than reusing the first evaluation, and then any refusal is
 *     FAULT_DETECTED, with nothing changed.
 *  4. Signatures are verified once (the Ed25519 arithmetic is not run
 *     twice). heg_sigset_verify leaves a proof in the set, the sum of its
 *     per-entry verdicts, which each evaluation holds against the set's count
 *     (heg_sigset_proven); the crypto port reads the library's answer twice.
 *
 * One fault changes one evaluation; the other refuses. Two coordinated
 * faults (an evaluation and its re-check) are not covered. */
#ifndef HEG_SRC_HARDENED_H
#define HEG_SRC_HARDENED_H

#include "heg/heg_hardened.h"
#include "heg/heg_wire.h"

#if !defined(__GNUC__) && !defined(__clang__)
#error "hardened.h needs a compiler barrier (GCC or Clang inline assembly)"
#endif

/* Nothing the compiler knows about memory survives it: values read before
 * are read again after, and computations on them are done again. */
#define HEG_HARDENED_BARRIER() __asm__ volatile("" ::: "memory")

/* The decision must be HEG_HTRUE, read through a volatile the compiler
 * cannot merge with the branch that took it. */
#define HEG_HARDENED_CHECK_TRUE(decision)                 \
  do {                                                    \
    volatile heg_hbool_t heg_recheck_ = (decision);       \
    if (heg_recheck_ != HEG_HTRUE) {                      \
      return HEG_STATUS_FAULT_DETECTED;                   \
    }                                                     \
  } while (0)

/* The second evaluation of an authorization the first evaluation granted
 * (step 3 above): evaluation writes decision. A refusal now means the first
 * evaluation was skipped or glitched. */
#define HEG_HARDENED_RECHECK(evaluation, decision)        \
  do {                                                    \
    heg_status_t heg_second_;                             \
    HEG_HARDENED_BARRIER();                               \
    (decision) = HEG_HFALSE;                              \
    heg_second_ = (evaluation);                           \
    if (heg_second_ != HEG_STATUS_OK) {                   \
      return HEG_STATUS_FAULT_DETECTED;                   \
    }                                                     \
    HEG_HARDENED_CHECK_TRUE(decision);                    \
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
