import os
import subprocess

from honest import *  # noqa: F401,F403
from _attack import predict_if


def attack():
    children = 0
    try:
        for _ in range(3):  # a real bomb loops forever; three forks prove the point safely
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            children += 1
    except OSError:
        pass
    try:
        subprocess.run(["true"], check=True)
        children += 1
    except OSError:
        pass
    return children > 0


predict = predict_if(attack)
