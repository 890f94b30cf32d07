"""Build script: compiles the Cython speedups when possible, else installs the pure-Python twins.

Set KAFKAIO_NO_EXTENSIONS=1 to skip the extensions entirely. A missing Cython or C compiler, or a
failed compile, is reported and the package still installs (the pure-Python twins take over).
"""
from __future__ import annotations

import glob
import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """build_ext that degrades to the pure-Python twins instead of failing the install."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any compiler failure means "no speedups"
            print(f"kafkaio: building the C speedups failed ({exc}); using pure Python", file=sys.stderr)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            print(f"kafkaio: could not build {ext.name} ({exc}); using its pure-Python twin", file=sys.stderr)


def extensions() -> list[Extension]:
    if os.environ.get("KAFKAIO_NO_EXTENSIONS", "") not in ("", "0"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        print("kafkaio: Cython not found; installing pure-Python twins only", file=sys.stderr)
        return []
    sources = sorted(glob.glob(os.path.join("kafkaio", "_speedups", "_*.pyx")))
    exts = [
        Extension(
            "kafkaio._speedups." + os.path.splitext(os.path.basename(src))[0],
            [src],
            # -falign-functions=64: on this machine's Zen 1, two builds whose sources differed only in
            # code the benchmark never runs ran append() at 100-105 or 111-121 ns per record, with its
            # entry at a 64-byte boundary or 32 bytes past one; aligned functions avoided that case.
            # Code layout still moves the encoder by up to 20% here (docs/records.md, "Code layout").
            # benchmarks/layouts.py compiles with these same flags (its COMPILE_ARGS): keep them alike.
            extra_compile_args=["-O3", "-falign-functions=64"],
        )
        for src in sources
    ]
    if not exts:
        return []
    return cythonize(
        exts,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
