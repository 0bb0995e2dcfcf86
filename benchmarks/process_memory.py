"""Memory helpers shared by the benchmarks that watch a process's memory."""


def resident_mb():
    """The process's resident memory now (VmRSS), in MB; NaN where unknown."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")
