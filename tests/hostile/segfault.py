import ctypes

from honest import *  # noqa: F401,F403


def predict(params, X):
    return ctypes.string_at(0)  # dereference NULL: the worker dies with SIGSEGV
