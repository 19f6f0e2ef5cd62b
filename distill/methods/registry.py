"""The distillation methods by name: those declared under the entry-point group `tinydistill.methods`
(the built-ins in setup.cfg, an outside package in its own metadata) and any registered from Python.
A method module registers itself with `@register`, so one file is the whole plug-in."""

from data.registry import Registry

REGISTRY = Registry("method", "--method", group="tinydistill.methods")
register = REGISTRY.register
