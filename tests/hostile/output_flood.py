import sys

from honest import *  # noqa: F401,F403

for _ in range(20_000):
    print("flood " * 200)
    sys.stderr.write("err " * 200 + "\n")
