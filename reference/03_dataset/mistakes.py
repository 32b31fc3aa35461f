"""Known mistakes of 03_dataset, with the hint a TA gives (instructor side, never shipped).

Each entry is a small wrong implementation (textual changes to the reference) whose outputs
are compared with a failing student's, or the signature of the error a mistake raises.
"""
from grader.course.spec import Mistake

from ..hints import ZERO

A03 = "03_dataset"

MISTAKES = (
    Mistake(A03, "LRDataset", "__len__ off by one",
            "len(dataset) must be the number of rows N; yours is one off",
            replace=(("return self.data.shape[0]", "return self.data.shape[0] - 1"),)),
    Mistake(A03, "LRDataset", "def len instead of __len__",
            "define __len__ (with the underscores): a method called `len` is never used by "
            "len() or by DataLoader", error=r"has no len\(\)|__len__"),
    Mistake(A03, "MyData", "def len instead of __len__",
            "define __len__ (with the underscores): a method called `len` is never used by "
            "len() or by DataLoader", error=r"has no len\(\)|__len__"),
    Mistake(A03, "MyData", "items as NumPy",
            "items must be torch tensors, not NumPy arrays: DataLoader batches and models "
            "expect tensors", replace=(("return self.x[i], self.y[i]",
                                        "return self.x[i].numpy(), self.y[i].numpy()"),)),
    Mistake(A03, "LRDataset", "items in float64",
            "items must be float32 tensors here (the default dtype of nn.Linear): build the "
            "tensor with dtype=torch.float32",
            replace=(("torch.as_tensor(data_points, dtype=torch.float32)",
                      "torch.as_tensor(data_points, dtype=torch.float64)"),)),
    Mistake(A03, "train_minibatch", "gradients not zeroed", ZERO,
            replace=(("            optimizer.zero_grad()\n", ""),)),
)
