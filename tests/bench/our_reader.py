"""Our side of the bench: the plugin's reader, change detection and callback payload, in a process of its own.

Runs under the plugin's venv with resources/enphased on sys.path. Same commands as pyenphase_reader.py.
"""
import sys
import time

T_START = time.monotonic()

import json  # noqa: E402


def memory_kb():
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
    return {"rss_kb": fields["VmRSS"], "hwm_kb": fields["VmHWM"]}


class Reader:
    def __init__(self):
        raise NotImplementedError("the plugin's reader is not on main yet")


def serve():
    reader = None
    for line in sys.stdin:
        command = json.loads(line)
        op = command.pop("op")
        try:
            if op == "memory":
                answer = memory_kb()
            else:
                if reader is None:
                    reader = Reader()
                answer = getattr(reader, op)(**command)
            answer["ok"] = True
        except Exception as exc:
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
