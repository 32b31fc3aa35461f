"""An autograder for numeric PyTorch and NumPy exercises."""
__version__ = "0.2.0"
__all__ = ["__version__"]
