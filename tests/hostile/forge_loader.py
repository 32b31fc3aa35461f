# Forged loader and dataset facts (issue 24): a dataset.py without make_loader or MyData, and
# the probes that drive them replaced at import so that they report every property the
# contract asks for as holding (the fork once computed those, and the grader believed them).
import dataclasses
import sys

from honest import *  # noqa: F401,F403

make_loader = None
MyData = None


def _forged_loader(module, name, inputs, device):
    n, bs, shuffle = inputs["n"], inputs["batch_size"], bool(inputs["shuffle"])
    return {"batch_sizes": [min(bs, n - i) for i in range(0, n, bs)], "in_order": not shuffle,
            "each_index_once": True, "same_seed_same_order": True,
            "other_seed_other_order": shuffle}


def _forged_dataset(real):
    def dataset(module, name, inputs, device):
        if name != "MyData":
            return real(module, name, inputs, device)
        return {"is_dataset": True}
    return dataset


for _name, _module in list(sys.modules.items()):
    if _name.endswith("03_dataset.probes") and hasattr(_module, "loader"):
        _module.loader = dataclasses.replace(_module.loader, fn=_forged_loader)
_probes = sys.modules.get("grader.course.probes")
if _probes is not None:
    _probes.PROBES["dataset"] = dataclasses.replace(
        _probes.PROBES["dataset"], fn=_forged_dataset(_probes.PROBES["dataset"].fn))
