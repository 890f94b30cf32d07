"""Build script: compiles the Cython speedups when possible, else installs the pure-Python twins.

Environment:
- ``KAFKAIO_NO_EXTENSIONS=1``: skip the extensions entirely (the pure ``py3-none-any`` wheel).
- ``KAFKAIO_REQUIRE_EXTENSIONS=1``: a failed compile fails the build instead of degrading (release
  wheels: a platform wheel without its binaries must never be published).
- ``KAFKAIO_BUILD_DIR``: where ``build``/``build_ext``/``bdist_wheel`` write (default ``build/``).

A missing Cython or C compiler, or a failed compile, is otherwise reported and the package still
installs (the pure-Python twins take over). What that means for packaging:
- A non-in-place build (``pip wheel``, ``pip install``, ``python -m build``) writes the generated
  ``.c`` files under the build directory, never into ``kafkaio/``; ``build_ext --inplace`` (``make
  build``) keeps them beside the ``.pyx`` where benchmarks/layouts.py reads them.
- Every non-in-place build starts by removing the extension binaries and the ``_compiled.txt`` marker
  left in the build directory by an earlier build, and a failed extension removes its binary again:
  a stale ``.so`` from another build can never be packaged (issue 21).
- ``_compiled.txt`` lists the extensions this build compiled; ``kafkaio._speedups`` warns once at
  import when one of them is missing or fails to import. The pure wheel has no marker, so it is quiet.
- Binaries outside in-place builds are linked stripped (``-Wl,-s``): 1.31 MB -> 196 KB for ``_records``.
"""
from __future__ import annotations

import glob
import os
import re
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

MARKER = "_compiled.txt"
SPEEDUPS = os.path.join("kafkaio", "_speedups")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


def _remove_built(build_lib: str) -> None:
    """Delete extension binaries and the marker an earlier build left in ``build_lib``."""
    where = os.path.join(build_lib, SPEEDUPS)
    for pattern in ("_*.so", "_*.pyd", MARKER):
        for path in glob.glob(os.path.join(where, pattern)):
            os.remove(path)


class CleanBuildPy(build_py):
    """build_py that first clears the binaries of earlier builds from the build directory."""

    def run(self) -> None:
        _remove_built(self.build_lib)
        super().run()


class OptionalBuildExt(build_ext):
    """build_ext that degrades to the pure-Python twins instead of failing the install."""

    def run(self) -> None:
        self._built: list[str] = []
        # setuptools clears self.inplace while it compiles (then copies into the source tree): note
        # now whether this is a development build (in place or editable) or one that gets packaged
        self._dev = bool(self.inplace or getattr(self, "editable_mode", False))
        if not self._dev:
            _remove_built(self.build_lib)
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any compiler failure means "no speedups"
            if _env_flag("KAFKAIO_REQUIRE_EXTENSIONS"):
                raise
            print(f"kafkaio: building the C speedups failed ({exc}); using pure Python", file=sys.stderr)
        if not self._dev and self._built:
            marker = os.path.join(self.build_lib, SPEEDUPS, MARKER)
            os.makedirs(os.path.dirname(marker), exist_ok=True)
            with open(marker, "w", encoding="ascii") as f:
                f.write("".join(name.rsplit(".", 1)[-1].lstrip("_") + "\n" for name in sorted(self._built)))

    def build_extension(self, ext: Extension) -> None:
        from Cython.Build import cythonize

        try:
            # cythonized here rather than at import: an in-place build keeps the .c beside the .pyx,
            # any other build keeps it in its temp directory
            build_dir = None if self._dev else os.path.join(self.build_temp, "cython")
            (cext,) = cythonize(
                [ext],
                build_dir=build_dir,
                language_level=3,
                compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
                quiet=True,
            )
            ext.sources = cext.sources  # the same Extension: setuptools keeps state on it
            if not self._dev and sys.platform.startswith("linux") and "-Wl,-s" not in ext.extra_link_args:
                ext.extra_link_args = [*ext.extra_link_args, "-Wl,-s"]  # strip: symbols are 85% of it
            super().build_extension(ext)
            self._built.append(ext.name)
        except Exception as exc:  # noqa: BLE001
            if not self._dev:
                stale = self.get_ext_fullpath(ext.name)
                if os.path.exists(stale):
                    os.remove(stale)
            if _env_flag("KAFKAIO_REQUIRE_EXTENSIONS"):
                raise
            print(f"kafkaio: could not build {ext.name} ({exc}); using its pure-Python twin", file=sys.stderr)


def extensions() -> list[Extension]:
    if _env_flag("KAFKAIO_NO_EXTENSIONS"):
        return []
    try:
        import Cython  # noqa: F401
    except ImportError:
        if _env_flag("KAFKAIO_REQUIRE_EXTENSIONS"):
            raise
        print("kafkaio: Cython not found; installing pure-Python twins only", file=sys.stderr)
        return []
    sources = sorted(glob.glob(os.path.join(SPEEDUPS, "_*.pyx")))
    return [
        Extension(
            "kafkaio._speedups." + os.path.splitext(os.path.basename(src))[0],
            [src],
            # -falign-functions=64: on this machine's Zen 1, two builds whose sources differed only in
            # code the benchmark never runs ran append() at 100-105 or 111-121 ns per record, with its
            # entry at a 64-byte boundary or 32 bytes past one; aligned functions avoided that case.
            # Code layout still moves the encoder by up to 20% here (docs/records.md, "Code layout").
            # benchmarks/layouts.py compiles with these same flags (its COMPILE_ARGS): keep them alike.
            extra_compile_args=["-O3", "-falign-functions=64"],
            depends=sorted(glob.glob(os.path.join(SPEEDUPS, "*.pxd"))),
        )
        for src in sources
    ]


options = {}
if os.environ.get("KAFKAIO_BUILD_DIR"):
    options["build"] = {"build_base": os.environ["KAFKAIO_BUILD_DIR"]}
    options["egg_info"] = {"egg_base": os.environ["KAFKAIO_BUILD_DIR"]}
    os.makedirs(os.environ["KAFKAIO_BUILD_DIR"], exist_ok=True)  # egg_info insists that it exists

# Where the documents the README links to (docs/*.md, BENCHMARKS.md, ...) are published, e.g. a
# repository's ".../blob/v0.1.0/" URL. None exists yet: see index_page_readme.
DOCS_BASE_URL = ""
_RELATIVE_LINK = re.compile(r"\[([^\]]+)\]\((?![a-z][a-z0-9+.-]*:|#)([^)\s#]+)(#[^)\s]*)?\)")


def index_page_readme(text: str, base_url: str = DOCS_BASE_URL) -> str:
    """The README as the package index shows it (the ``long_description``).

    A relative link (``[docs/testing.md](docs/testing.md)``) works in a checkout and in the sdist,
    but on the index page it points into the index itself. With ``base_url`` it becomes absolute;
    without one it becomes the file's name, which the sdist carries, rather than a broken link."""
    def fix(m: re.Match[str]) -> str:
        label, path, anchor = m.group(1), m.group(2), m.group(3) or ""
        if base_url:
            return f"[{label}]({base_url.rstrip('/')}/{path}{anchor})"
        return f"`{path}`" if label.strip("`") == path else f"{label} (`{path}` in the sdist)"
    return _RELATIVE_LINK.sub(fix, text)


with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "README.md"), encoding="utf-8") as f:
    _README = f.read()

setup(
    long_description=index_page_readme(_README),
    long_description_content_type="text/markdown",
    ext_modules=extensions(),
    cmdclass={"build_ext": OptionalBuildExt, "build_py": CleanBuildPy},
    options=options,
)
