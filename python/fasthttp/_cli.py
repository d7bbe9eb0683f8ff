"""The ``fh`` console script: runs the C command-line client shipped in the package.

``pip install pyfasthttp`` installs a script ``fh`` that calls :func:`main`,
which replaces the Python process with ``fasthttp/_bin/fh`` (the same program
``cmake --install`` puts in ``bin/``), so the command runs at C speed, writes
to the terminal directly and exits with the program's own status. The
interpreter only finds the file: option parsing, defaults and error messages
all belong to the C program.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["executable", "main"]


def executable() -> str:
    """The path of the ``fh`` program inside the installed package.

    It is installed beside the C extension, which is where it is looked for:
    in an editable install the Python files stay in the source tree while the
    compiled files are in site-packages.
    """
    from . import _fasthttp

    return str(Path(_fasthttp.__file__).resolve().parent / "_bin" / "fh")


def main() -> None:
    path = executable()
    if not os.access(path, os.X_OK):
        sys.stderr.write(f"fh: the fh program is missing from the package ({path})\n")
        raise SystemExit(2)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(path, ["fh", *sys.argv[1:]])


if __name__ == "__main__":
    main()
