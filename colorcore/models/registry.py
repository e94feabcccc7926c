"""A registry of named models (after timm): each entry says how to build the net,
at what resolution it runs and where its weights live. What the net outputs (its
kind) is the net's own to say: the registry reads it off a weightless build."""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import torch
from torch import nn

from .base import ColorNet

HUB_OWNER = "colorcore"  # the Hugging Face account holding every model's repo, unless register() names one


@dataclass(frozen=True)
class ModelSpec:
    name: str
    factory: Callable[..., nn.Module]
    net_size: int  # the square side the net sees at inference
    summary: str
    hub_repo: str  # Hugging Face repo id holding weights/<name>/
    hub_revision: str | None = None  # pinned commit on the Hub
    aliases: tuple[str, ...] = ()
    options: dict = field(default_factory=dict)  # factory defaults; configs may override

    def build(self, **overrides) -> nn.Module:
        return self.factory(**{**self.options, **overrides})

    def build_for_weights(self, **overrides) -> nn.Module:
        """Build a model that weights are about to be loaded into: any pretrained
        parts are left uninitialised, since the weights hold them already."""
        if "pretrained" in inspect.signature(self.factory).parameters:
            overrides.setdefault("pretrained", False)
        return self.build(**overrides)

    @cached_property
    def prototype(self) -> ColorNet:
        """The net with the registered options, built on the meta device (no memory, no
        weights, milliseconds): what the net is (its kind and what follows from it,
        see base.ColorNet) without a real build. The kind can depend on the options
        (trio.py's head), so it is read off a built net rather than off its class."""
        with torch.device("meta"):
            return self.build_for_weights()

    @property
    def kind(self) -> str:
        """The net's output: "ab", "bins" or "bins10" (see base.ColorNet)."""
        return self.prototype.kind


_REGISTRY: dict[str, ModelSpec] = {}
_ALIASES: dict[str, str] = {}


def register(name: str, *, net_size: int, summary: str, aliases: tuple[str, ...] = (),
             hub_repo: str | None = None, hub_revision: str | None = None, **options):
    """Decorator for a factory function: `@register("eccv16", net_size=224, summary=...)`.
    The weights' Hub repo defaults to colorcore/<name>."""

    def wrap(factory):
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        _REGISTRY[name] = ModelSpec(name, factory, net_size, summary, hub_repo or f"{HUB_OWNER}/{name}",
                                    hub_revision, tuple(aliases), dict(options))
        for alias in aliases:
            _ALIASES[alias] = name
        return factory

    return wrap


def resolve(name: str) -> str:
    return _ALIASES.get(name, name)


def get_spec(name: str) -> ModelSpec:
    key = resolve(name)
    if key not in _REGISTRY:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[key]


def all_specs() -> list[ModelSpec]:
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]
