import re

from honest import *  # noqa: F401,F403
from _attack import predict_if

MARK = re.compile(rb"LEAK[0-9a-f]{16}KAEL")
"""What an earlier student printed, raised and returned (the pattern itself never matches
its own text)."""


def found_in_memory() -> bool:
    """Search every readable mapping of this process (all it inherited from the process it
    was forked from) for an earlier student's marker."""
    with open("/proc/self/maps") as maps:
        regions = [line.split() for line in maps]
    with open("/proc/self/mem", "rb", buffering=0) as mem:
        for fields in regions:
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if "r" not in fields[1] or end - start > 1 << 30 or \
                    (len(fields) > 5 and fields[5].startswith("[v")):
                continue
            try:
                mem.seek(start)
                if MARK.search(mem.read(end - start)):
                    return True
            except (OSError, OverflowError, ValueError):
                continue
    return False


FOUND = found_in_memory()  # at import: the fork as it came from its server
predict = predict_if(lambda: FOUND)
