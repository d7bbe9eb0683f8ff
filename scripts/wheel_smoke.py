"""Smoke test of an installed pyfasthttp wheel, run by scripts/build-wheels.sh
inside a fresh virtual environment that holds nothing but the wheel.

It proves three things, and exits non-zero with the reason when one fails:

1. the package works: a synchronous and an asyncio request (gzip-decoded)
   against a local HTTP server started here, and the ``fh`` console script;
2. the package came from the environment, not from a source tree;
3. the repaired wheel loads nothing from outside itself and the manylinux
   baseline: every shared object that importing and using fasthttp mapped
   into this process (read from /proc/self/maps, before and after) is either
   inside the installed package (``pyfasthttp.libs/``, ``fasthttp/``), part of
   the interpreter (its stdlib modules in lib-dynload) or a baseline library
   (glibc and friends, libz), and the same holds for the libraries the
   dynamic loader resolves for the extension and the ``fh`` program
   (``ld.so --list``, what ldd prints, without ldd).

Only the standard library is used, so it runs in an environment with the
wheel alone. Usage: python wheel_smoke.py [--quiet]
"""

from __future__ import annotations

import asyncio
import contextvars
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# The libraries a manylinux wheel may take from the system (PEP 600 and
# auditwheel's policies: glibc's parts, libgcc_s, libstdc++, libz, ...),
# matched by soname.
BASELINE = re.compile(
    r"^(ld-linux[-\w.]*\.so\.\d+|lib(c|m|dl|rt|pthread|util|nsl|resolv|crypt|anl|z|gcc_s|stdc\+\+|"
    r"expat)\.so\.\d+)$"
)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"path": self.path, "ok": True}).encode()
        zipped = "gzip" in self.headers.get("Accept-Encoding", "")
        if zipped:
            body = gzip.compress(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if zipped:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def mapped_objects() -> set[str]:
    paths = set()
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6 and ".so" in parts[5]:
                paths.add(parts[5].strip())
    return paths


def foreign(paths: set[str], inside: list[Path]) -> list[str]:
    """The paths that are neither inside the package nor baseline libraries."""
    bad = []
    for p in sorted(paths):
        real = Path(os.path.realpath(p))
        if any(real.is_relative_to(d) for d in inside):
            continue
        if BASELINE.match(Path(p).name) or BASELINE.match(real.name):
            continue
        bad.append(p)
    return bad


def main() -> int:
    quiet = "--quiet" in sys.argv
    before = mapped_objects()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"

    import fasthttp  # the import under test: after the first look at the maps

    pkg = Path(fasthttp.__file__).resolve().parent
    site = pkg.parent
    # The interpreter's own files (lib-dynload's stdlib modules, such as the
    # unicodedata that IDNA host names use, and libpython) come with Python,
    # not with the system. Only those: on a distribution's Python the prefix
    # is /usr, which holds every system library.
    dynload = Path(str(sysconfig.get_config_var("DESTSHARED")))
    libpython = Path(str(sysconfig.get_config_var("LIBDIR")),
                     str(sysconfig.get_config_var("LDLIBRARY")))
    inside = [pkg, site / "pyfasthttp.libs", Path(os.path.realpath(dynload)),
              Path(os.path.realpath(libpython))]
    if not str(pkg).startswith(os.path.realpath(sys.prefix)):
        print(f"FAIL: fasthttp imported from {pkg}, outside the environment {sys.prefix}")
        return 1

    with fasthttp.Client() as client:
        resp = client.get(url + "/sync")
        assert resp.status_code == 200 and resp.json() == {"path": "/sync", "ok": True}, resp.text

    var: contextvars.ContextVar[int] = contextvars.ContextVar("var")

    async def use_async() -> None:
        async with fasthttp.Client() as client:
            resp = await client.get(url + "/async")
            assert resp.json()["path"] == "/async"

            # Tasks woken in a batch (aio_waiter.c), on this version's asyncio:
            # each in its own context; a cancelled wait raises CancelledError.
            async def one(i: int) -> None:
                var.set(i)
                r = await client.get(f"{url}/async/{i}")
                assert r.json()["path"] == f"/async/{i}" and var.get() == i

            await asyncio.gather(*(one(i) for i in range(16)))
            task = asyncio.ensure_future(client.get(url + "/cancelled"))
            await asyncio.sleep(0)  # the task now waits on its request
            task.cancel()
            try:
                await task
                raise AssertionError("a cancelled request completed")
            except asyncio.CancelledError:
                pass
            assert (await client.get(url + "/after")).status_code == 200

    asyncio.run(use_async())
    loaded = mapped_objects() - before
    bad = foreign(loaded, inside)

    fh = shutil.which("fh", path=str(Path(sys.executable).parent))
    if not fh:
        print("FAIL: the fh console script is not installed")
        return 1
    out = subprocess.run([fh, url + "/cli"], capture_output=True, timeout=60)
    if out.returncode != 0 or json.loads(out.stdout)["path"] != "/cli":
        print(f"FAIL: fh exited {out.returncode}: {out.stderr.decode(errors='replace')}")
        return 1
    # What the dynamic loader resolves for each ELF file of the package (the
    # extension and the program the console script execs), as ldd would
    # print it: `ld.so --list FILE`. This also covers a library that the
    # interpreter had mapped before the first look at the maps (asyncio
    # imports ssl, which maps the system's libssl).
    loader = next(p for p in before | loaded if Path(p).name.startswith("ld-linux"))
    fh_libs: set[str] = set()
    for elf in [pkg / "_bin" / "fh", *pkg.glob("_fasthttp*.so")]:
        trace = subprocess.run([loader, "--list", str(elf)], capture_output=True, text=True,
                               timeout=60)
        libs = set(re.findall(r"=> (/\S+)", trace.stdout))
        if not libs:
            bad.append(f"{elf.name}: the loader listed no libraries: {trace.stdout}{trace.stderr}")
        bad += [f"{elf.name}: {p}" for p in foreign(libs, inside)]
        fh_libs |= libs
    bundled = sorted(p.name for p in (site / "pyfasthttp.libs").glob("*.so*"))
    if bad:
        print("FAIL: libraries loaded from outside the wheel and the manylinux baseline:")
        for p in bad:
            print("   ", p)
        return 1
    if not quiet:
        print(f"python {sys.version.split()[0]}: fasthttp {fasthttp.__version__} from {pkg}")
        print("loaded from the wheel: " + ", ".join(sorted(
            Path(p).name for p in loaded if not BASELINE.match(Path(p).name))))
        print("bundled: " + ", ".join(bundled))
    print(f"wheel smoke ok: python {sys.version.split()[0]}, {len(loaded)} objects mapped by "
          f"fasthttp, {len(fh_libs)} resolved by the loader for the extension and fh, none "
          "outside the wheel and the baseline")
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
