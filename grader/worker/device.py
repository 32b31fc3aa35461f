"""Which device grades: ``cpu``, ``cuda`` or ``auto``."""
from __future__ import annotations


class DeviceError(RuntimeError):
    """The requested device cannot be used here (one line for the user)."""


def nvidia_driver() -> bool:
    """Whether this machine has an NVIDIA driver at all (no driver: no CUDA, and no need to
    import torch to find that out)."""
    import os
    return os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/nvidiactl")


def resolve_device(requested: str) -> str:
    import os
    if requested == "cpu" or (requested == "auto" and not nvidia_driver()):
        return "cpu"
    # Ask NVML, not the CUDA runtime: this process may fork workers afterwards, and a CUDA
    # context does not survive fork.
    os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
    import torch
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError("--device cuda was asked for, but CUDA is not available on this "
                              "machine (use --device cpu or auto)")
        return requested
    raise DeviceError(f"unknown device {requested!r} (use cpu, cuda or auto)")


def cluster_device(requested: str) -> str:
    """The device on a cluster: the workers', not this machine's (auto means cpu there)."""
    if requested in ("auto", "cpu"):
        return "cpu"
    if requested.startswith("cuda"):
        return requested
    raise DeviceError(f"unknown device {requested!r} (use cpu, cuda or auto)")
