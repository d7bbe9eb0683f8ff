"""CPU accounting from /proc (Linux): a process's CPU time, and the CPU time of
every other process on the machine, so a run disturbed by a busy machine shows.
Per-task times are precise, unlike /proc/stat's tick samples."""

from __future__ import annotations

import os

_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, int, int] | None:
    """(ppid, utime+stime, cutime+cstime) in clock ticks, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # The command name may contain spaces and parentheses: fields start after the last ")".
    fields = data[data.rfind(b")") + 2 :].split()
    try:
        # fields[0] is the state (field 3 of stat(5)); ppid is field 4, utime 14, stime 15,
        # cutime 16, cstime 17.
        return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])
    except (IndexError, ValueError):
        return None


def process_seconds(pid: int) -> float:
    """CPU time (user + system) of one process, in seconds; 0 if it is gone."""
    st = _stat(pid) if pid > 0 else None
    return st[1] / _HZ if st else 0.0


def others_seconds(exclude: set[int]) -> float:
    """CPU time of every process except `exclude`, their children and kernel
    threads, including what reaped children took (compilers of other jobs)."""
    total = 0
    try:
        names = os.listdir("/proc")
    except OSError:
        return -1.0
    for name in names:
        if not name.isdigit():
            continue
        pid = int(name)
        st = _stat(pid)
        if st is None:
            continue
        ppid, own, reaped = st
        if pid in exclude or ppid in exclude or pid == 2 or ppid == 2:
            continue
        total += own + reaped
    return total / _HZ
