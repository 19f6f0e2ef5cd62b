"""Distillation methods as plug-ins, with what they are made of: objectives, pure losses, layer maps
and taps. A method is one module (see `base.Method`): its options with the published defaults, its
default student and initialisation, its layer map, and the stages it trains; it registers itself with
`@register`, and an entry point in the group `tinydistill.methods` makes the command line find it
(the built-ins are declared in setup.cfg; see docs/architecture.md for an outside package's). The
--method choices and each method's flags come from here.

    from distill import methods
    methods.available()            # ('distilbert', 'minilm', 'pkd', 'tinybert', then any installed)
    methods.register(MyMethod)     # from Python, before the run (a notebook, a test)
"""

from __future__ import annotations

from .base import Method, PlanContext, StagePlan, single_stage
from .registry import REGISTRY, register

available = REGISTRY.available
get = REGISTRY.get


def options_for(method: Method, given: dict):
    """The method's Options from flag values of any method (see `Registry.typed_options`: an option of
    another method is refused), once the method finds them consistent."""
    typed = REGISTRY.typed_options(method.name, given)
    method.check_options(typed)
    return method.Options(**typed)


__all__ = [
    "Method",
    "PlanContext",
    "StagePlan",
    "single_stage",
    "REGISTRY",
    "register",
    "available",
    "get",
    "options_for",
]
