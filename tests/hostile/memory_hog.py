from honest import *  # noqa: F401,F403
from _attack import predict_if


def attack():
    block = bytearray(16 << 30)
    block[::4096] = b"x" * len(block[::4096])
    return True


predict = predict_if(attack)
