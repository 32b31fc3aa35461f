"""Hints that more than one assignment's catalogue gives (the same mistake, met again)."""

ZERO = ("you never reset the gradients, so they add up from step to step (the first step is "
        "right, then the path drifts): zero them after each update")
SUPER = ("call super().__init__() first thing in __init__: an nn.Module must set itself up "
         "before you give it parameters or layers")
