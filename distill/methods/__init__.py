"""Distillation methods as registered plug-ins. A method is one module (see `base.Method`): its
options with the published defaults, its default student and initialisation, its layer map, and the
stages it trains. The command line's --method choices and each method's flags come from here.

    from distill import methods
    methods.available()            # ('tinybert', 'distilbert', 'pkd', 'minilm')
    methods.register(MyMethod)     # from anywhere, before the run
"""

from __future__ import annotations

from data.registry import Registry

from .base import Method, PlanContext, StagePlan, single_stage
from .distilbert import DistilBertMethod
from .minilm import MiniLm
from .pkd import PatientKdMethod
from .tinybert import TinyBert

REGISTRY = Registry("method", "--method")
register = REGISTRY.register
available = REGISTRY.available
get = REGISTRY.get

for _builtin in (TinyBert, DistilBertMethod, PatientKdMethod, MiniLm):
    register(_builtin)


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
