"""One run of one client, in a process of its own:

    python -m fasthttp.bench.worker --out RESULT.json < SPEC.json

Reads a RunSpec (JSON) on stdin, runs the client, writes a RunResult (JSON) to
--out. A client that cannot run is reported as skipped; one that breaks, as
failed with the reason. The exit status is 0 whenever a result was written.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import sys
import traceback

from .clients import BY_ID
from .config import RunResult, RunSpec, Skip
from .measure import WarmupFailed


def run_one(spec: RunSpec) -> RunResult:
    info = BY_ID.get(spec.client)
    if info is None:
        return RunResult(client=spec.client, status="failed", reason="unknown client")
    try:
        version = importlib.metadata.version(info.dist)
    except importlib.metadata.PackageNotFoundError:
        version = ""
    try:
        module = importlib.import_module(f"{__package__}.clients.{info.module}")
        if spec.stream and not hasattr(module, "stream"):
            raise Skip("unsupported: no streamed transfer written for this client")
        res: RunResult = (module.stream if spec.stream else module.run)(spec)
    except Skip as e:
        return RunResult(client=spec.client, status="skipped", reason=str(e), version=version)
    except WarmupFailed as e:
        return RunResult(client=spec.client, status="failed", reason=str(e), version=version)
    except Exception as e:
        tb = traceback.extract_tb(e.__traceback__)
        where = f" at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else ""
        reason = f"{type(e).__name__}: {e}{where}"
        return RunResult(client=spec.client, status="failed", reason=reason[:500],
                         version=version)
    res.client = spec.client
    res.version = res.version or version
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fasthttp.bench.worker")
    ap.add_argument("--out", required=True, help="where the RunResult JSON goes")
    args = ap.parse_args(argv)
    spec = RunSpec.from_dict(json.load(sys.stdin))
    res = run_one(spec)
    with open(args.out, "w") as f:
        json.dump(res.to_dict(), f)
    return 0


if __name__ == "__main__":
    code = main()
    # The result is written: the interpreter's finalization is skipped. A
    # client's background threads still running then can kill the process
    # after the fact: pyreqwest's async runtime took the GIL from a worker
    # thread while the interpreter finalized ("Fatal Python error:
    # PyGILState_Release: thread state ... must be current when releasing",
    # SIGABRT) in 5 of 70 runs, and the run was reported failed although
    # it had measured correctly. fasthttp's own exit with clients busy is
    # tested by the test suite (test_process.py), not here.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
