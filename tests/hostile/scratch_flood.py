import os

import honest
from honest import *  # noqa: F401,F403

FILES, SIZE = 20_000, 40_329  # 769 MiB in all


def predict(params, X):
    block = b"x" * SIZE
    os.makedirs("flood", exist_ok=True)
    for i in range(FILES):  # no error caught: a full scratch fails the call
        with open(os.path.join("flood", f"{i:05d}.bin"), "wb") as f:
            f.write(block)
    return honest.predict(params, X)
