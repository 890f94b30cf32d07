"""Is a hybrid CRC-32C (CRC32 instruction on part of the buffer, PCLMULQDQ fold on the rest) faster here?

The record codec computes the batch CRC with a 4-lane PCLMULQDQ fold (kafkaio/_speedups/_records.pyx).
On some CPUs, running the CRC32 instruction over a second part of the buffer in the same loop adds
throughput, the two parts' CRCs being combined by carry-less multiplication. This builds a C program
from the fold as it is in _records.pyx plus such a hybrid loop (CW = 1, 2 or 3 eight-byte CRC32 steps
per stream and 64 folded bytes, three streams), checks the hybrid against the fold on lengths
600-20,000, and prints GB/s of both over 16 KB buffers. Needs gcc and an x86-64 CPU with SSE4.2
and PCLMULQDQ.

    .venv/bin/python -m benchmarks.crc_hybrid

Results (docs/records.md, Speed): on an AMD EPYC (Zen 1), 2026-11-28, the fold 9.6-9.9 GB/s, the
hybrid 9.4-9.8 GB/s for every CW, no gain; on an Intel Xeon (model 167, 2.6 GHz), 2026-12-04, the
fold 30-32 GB/s, the hybrid 41-43 / 54-55 / 57-59 GB/s for CW = 1 / 2 / 3.
"""
from __future__ import annotations

import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent

_PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define P_REFL 0x82F63B78u
static uint32_t ktab[8192];  /* ktab[m] = x^(64m - 33) mod P: shifts a CRC state past 8m bytes */

static uint32_t xpow_slow(unsigned k) { /* x^k mod P reflected */
    uint32_t v = 1; /* x^31 */
    if (k < 32) return 1u << (31 - k);
    for (unsigned i = 31; i < k; i++) { uint32_t c = v & 1; v >>= 1; if (c) v ^= P_REFL; }
    return v;
}

KAFKAIO_CRC_TARGET static inline uint32_t mulx33(uint32_t a, uint32_t b) { /* a*b*x^33 mod P */
    __m128i prod = _mm_clmulepi64_si128(_mm_cvtsi32_si128((int)a), _mm_cvtsi32_si128((int)b), 0);
    return (uint32_t)_mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(prod));
}

KAFKAIO_CRC_TARGET static void init_tab(void) {
    uint32_t step = xpow_slow(64 - 33);
    ktab[1] = step;
    for (int i = 2; i < 8192; i++) ktab[i] = mulx33(ktab[i-1], step);
}

#ifndef CW
#define CW 2
#endif
/* state in/out not inverted. one iteration: 64 bytes pclmul + 3 streams x (8*CW) bytes crc32 */
KAFKAIO_CRC_TARGET static uint32_t hybrid(uint32_t state, const unsigned char* p, size_t n) {
    const size_t per = 64 + 3 * 8 * CW;
    size_t I = n / per;
    if (I < 4) return 0xdeadbeef;
    if (I > 2047) I = 2047;
    const size_t lc = 8 * CW * I;
    const unsigned char* q = p + 64 * I;  /* crc regions */
    const unsigned char *q1 = q, *q2 = q + lc, *q3 = q + 2 * lc;
    const __m128i k_by4 = _mm_set_epi64x(0x9e4addf8, 0x740eef02);
    const __m128i k_by1 = _mm_set_epi64x(0x14cd00bd6, 0xf20c0dfe);
    const __m128i k_64 = _mm_set_epi64x(0, 0xdd45aab8);
    const __m128i barrett = _mm_set_epi64x(0xdea713f1, 0x105ec76f1);
    const __m128i low32 = _mm_set_epi32(0, -1, 0, -1);
    __m128i a = _mm_xor_si128(_mm_loadu_si128((const __m128i*)p), _mm_cvtsi32_si128((int)state));
    __m128i b = _mm_loadu_si128((const __m128i*)(p + 16));
    __m128i c = _mm_loadu_si128((const __m128i*)(p + 32));
    __m128i d = _mm_loadu_si128((const __m128i*)(p + 48));
    __m128i t;
    uint64_t c1 = 0, c2 = 0, c3 = 0, w;
    for (int j = 0; j < CW; j++) {
        memcpy(&w, q1, 8); c1 = _mm_crc32_u64(c1, w); q1 += 8;
        memcpy(&w, q2, 8); c2 = _mm_crc32_u64(c2, w); q2 += 8;
        memcpy(&w, q3, 8); c3 = _mm_crc32_u64(c3, w); q3 += 8;
    }
    p += 64;
    for (size_t i = 1; i < I; i++) {
        a = kafkaio_fold16(a, k_by4, _mm_loadu_si128((const __m128i*)p));
        b = kafkaio_fold16(b, k_by4, _mm_loadu_si128((const __m128i*)(p + 16)));
        c = kafkaio_fold16(c, k_by4, _mm_loadu_si128((const __m128i*)(p + 32)));
        d = kafkaio_fold16(d, k_by4, _mm_loadu_si128((const __m128i*)(p + 48)));
        p += 64;
        for (int j = 0; j < CW; j++) {
            memcpy(&w, q1, 8); c1 = _mm_crc32_u64(c1, w); q1 += 8;
            memcpy(&w, q2, 8); c2 = _mm_crc32_u64(c2, w); q2 += 8;
            memcpy(&w, q3, 8); c3 = _mm_crc32_u64(c3, w); q3 += 8;
        }
    }
    a = kafkaio_fold16(a, k_by1, b);
    a = kafkaio_fold16(a, k_by1, c);
    a = kafkaio_fold16(a, k_by1, d);
    a = _mm_xor_si128(_mm_srli_si128(a, 8), _mm_clmulepi64_si128(a, k_by1, 0x10));
    a = _mm_xor_si128(_mm_srli_si128(a, 4), _mm_clmulepi64_si128(_mm_and_si128(a, low32), k_64, 0x00));
    t = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(a, low32), barrett, 0x10), low32);
    a = _mm_xor_si128(a, _mm_clmulepi64_si128(t, barrett, 0x00));
    uint32_t s = (uint32_t)_mm_extract_epi32(a, 1);
    /* each CRC32 region is lc = 8*CW*I bytes: shift by x^(8*lc) through ktab[CW*I] */
    uint32_t K = ktab[I * CW];
    s = mulx33(s, K) ^ (uint32_t)c1;
    s = mulx33(s, K) ^ (uint32_t)c2;
    s = mulx33(s, K) ^ (uint32_t)c3;
    /* rest */
    p = q3;
    n -= per * I;
    uint64_t s64 = s;
    for (; n >= 8; n -= 8, p += 8) { memcpy(&w, p, 8); s64 = _mm_crc32_u64(s64, w); }
    s = (uint32_t)s64;
    for (; n > 0; n--, p++) s = _mm_crc32_u8(s, *p);
    return s;
}

static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec * 1e-9; }

int main(int argc, char** argv) {
    size_t n = argc > 1 ? atoi(argv[1]) : 16384;
    unsigned char* buf = malloc(n + 64);
    for (size_t i = 0; i < n + 64; i++) buf[i] = rand();
    init_tab();
    /* correctness */
    for (size_t m = 600; m < 20000; m += 37) {
        uint32_t ref = kafkaio_crc32c_hw(buf + 3, m);
        uint32_t h = ~hybrid(0xFFFFFFFFu, buf + 3, m);
        if (ref != h) { printf("MISMATCH at %zu: %08x %08x\n", m, ref, h); return 1; }
    }
    volatile uint32_t sink;
    int reps = 20000;
    for (int round = 0; round < 5; round++) {
        double t0 = now();
        for (int r = 0; r < reps; r++) sink = kafkaio_crc32c_hw(buf, n);
        double t1 = now();
        for (int r = 0; r < reps; r++) sink = hybrid(0xFFFFFFFFu, buf, n);
        double t2 = now();
        printf("fold %.2f GB/s   hybrid %.2f GB/s\n", n * reps / (t1 - t0) / 1e9, n * reps / (t2 - t1) / 1e9);
    }
    return 0;
}
"""


def _fold_source() -> str:
    pyx = (ROOT / "kafkaio" / "_speedups" / "_records.pyx").read_text()
    start = pyx.index("    #if (defined(__GNUC__)")
    end = pyx.index("    #else\n    static uint32_t kafkaio_crc32c_hw")
    return "#include <string.h>\n#include <stdint.h>\n" + pyx[start:end] + "#endif\n"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        c_file = pathlib.Path(tmp) / "crc_hybrid.c"
        c_file.write_text(_fold_source() + _PROGRAM)
        for cw in (1, 2, 3):
            exe = pathlib.Path(tmp) / f"crc_hybrid_{cw}"
            subprocess.run(["gcc", "-O3", f"-DCW={cw}", "-o", str(exe), str(c_file)], check=True)
            print(f"CW={cw}", flush=True)
            if subprocess.run([str(exe), "16384"]).returncode != 0:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
