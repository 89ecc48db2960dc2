// What the compiler targets, as the importing Swift module is built (Package.swift passes its
// -march / -mcpu through -Xcc, so clang defines the feature macros the Swift code is compiled
// for). A static inline function rather than a macro: Swift sees a call that LLVM folds to a
// constant, so the kernel not chosen is dropped without "will never be executed" warnings.
#ifndef DIAGNOSE_CPU_TARGET_H
#define DIAGNOSE_CPU_TARGET_H

/// Float lanes of the widest vector registers the build target has: 16 with AVX-512F, 8 with
/// AVX (AVX2 and FMA come with it at x86-64-v3), 4 with NEON (arm64) or SSE.
static inline int diagnose_target_vector_lanes(void) {
#if defined(__AVX512F__)
    return 16;
#elif defined(__AVX__)
    return 8;
#else
    return 4;
#endif
}

/// Asks for the cache line holding `p` ahead of a write (a hint: no fault, no effect on results).
static inline void diagnose_prefetch_for_write(const void *p) {
    __builtin_prefetch(p, 1, 3);
}

#endif
