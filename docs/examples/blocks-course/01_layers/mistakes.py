"""Known mistakes of 01_layers and the hint a TA gives (instructor side, never shipped)."""
from grader.course.spec import Mistake

MISTAKES = (
    Mistake("01_layers", "conv1d", "kernel flipped",
            "you flipped the kernel (a true convolution): conv1d in deep learning is a "
            "cross-correlation, the kernel is applied as it is",
            replace=(('windows, weight)', 'windows, weight.flip(-1))'),)),
    Mistake("01_layers", "LayerNorm", "unbiased variance",
            "LayerNorm divides by the biased variance (mean of squared deviations, "
            "correction=0), not the unbiased one",
            replace=(("correction=0", "correction=1"),)),
)
