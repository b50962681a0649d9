"""Build hook for the optional compiled codec, subunit2._speedups.

Metadata lives in setup.cfg.  The extension is built from libsubunit2's sources
(c/src) when a C compiler works; when it does not, the install still succeeds with a
warning and subunit2 uses its pure-Python decoder and encoder.
"""

from __future__ import annotations

import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SPEEDUPS = Extension(
    "subunit2._speedups",
    sources=[
        "c/python/_speedups.c",
        "c/src/common.c",
        "c/src/reader.c",
        "c/src/writer.c",
    ],
    include_dirs=["c/include", "c/src"],
    depends=["c/include/subunit2.h", "c/src/crc32_table.h", "c/src/wire.h"],
    optional=True,
)


class OptionalBuildExt(build_ext):
    """build_ext that warns instead of failing when the extension cannot be built."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # no compiler at all, a broken toolchain, ...
            self._warn(error)

    def build_extension(self, ext) -> None:
        try:
            super().build_extension(ext)
        except Exception as error:
            self._warn(error)

    @staticmethod
    def _warn(error: Exception) -> None:
        sys.stderr.write(
            "WARNING: subunit2's optional C accelerator was not built "
            f"({error}); the pure-Python codec will be used.\n"
        )


setup(ext_modules=[SPEEDUPS], cmdclass={"build_ext": OptionalBuildExt})
