import socket

from honest import *  # noqa: F401,F403
from _attack import T, predict_if


def attack():
    sent = False
    try:
        with socket.create_connection(("127.0.0.1", T["port"]), timeout=2) as s:
            s.sendall(b"pwned")
            sent = True
    except OSError:
        pass
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(b"pwned", ("127.0.0.1", T["port"]))
        sent = True
    except OSError:
        pass
    return sent


predict = predict_if(attack)
