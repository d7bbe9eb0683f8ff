"""The machine and the versions a run is reported with."""

from __future__ import annotations

import os
import platform
from typing import Any

from .clients import ClientInfo
from .report import Summary


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    return {
        "cpu_model": cpu_model(),
        "cpus": os.cpu_count() or 0,
        "kernel": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
    }


def versions(clients: list[ClientInfo], rows: dict[str, list[Summary]],
             nginx: str) -> dict[str, str]:
    """Library versions as the workers reported them (what actually ran)."""
    out: dict[str, str] = {"python": platform.python_version()}
    if nginx:
        out["nginx"] = nginx
    for c in clients:
        v = next((r.version for key in rows for r in rows[key]
                  if r.client.id == c.id and r.version), "")
        out.setdefault(c.library, v or "not installed")
        if v and out[c.library] == "not installed":
            out[c.library] = v
    return out
