"""Memory of a bench reader process, read from /proc (shared by both readers, each in its own venv)."""


def memory_kb():
    """Resident set size now and its peak (VmHWM) for this process, in kB."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
    return {"rss_kb": fields["VmRSS"], "hwm_kb": fields["VmHWM"]}
