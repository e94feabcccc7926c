"""The model zoo. Every module in this package registers its models on import, so
adding a model is adding one file here (plus its config)."""
import importlib
import pkgutil

from .base import ColorNet, HintsNotSupported
from .registry import ModelSpec, all_specs, get_spec, register, resolve

_HELPERS = {"base", "registry", "efficientnet_lite"}
for _m in pkgutil.iter_modules(__path__):
    if _m.name not in _HELPERS:
        importlib.import_module(f"{__name__}.{_m.name}")

__all__ = ["ColorNet", "HintsNotSupported", "ModelSpec", "all_specs", "get_spec", "register", "resolve"]
