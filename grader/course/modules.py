"""A course's own Python files (checks, probes, mistakes, data), imported as modules of one
package per course folder: they import each other as ``from . import data`` and never meet
another course's modules of the same name."""
from __future__ import annotations

import hashlib
import importlib
import sys
import types
from pathlib import Path


def package_name(root: Path) -> str:
    return "_course_" + hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:10]


def ensure_package(root: Path) -> str:
    """Register the course folder as an importable package; returns its name."""
    name = package_name(root)
    if name not in sys.modules:
        package = types.ModuleType(name)
        package.__path__ = [str(root)]
        package.__file__ = None
        sys.modules[name] = package
    return name


def import_course_module(root: Path, relative: str) -> types.ModuleType:
    """Import ``<root>/<relative>.py`` (dots for folders) as part of the course's package."""
    return importlib.import_module(f"{ensure_package(root)}.{relative}")
