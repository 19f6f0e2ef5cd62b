"""The augmentation sources by name: those declared under the entry-point group `tinydistill.sources`
(the built-in in setup.cfg, an outside package in its own metadata) and any registered from Python. A
source module registers itself with `@register`, so one file is the whole plug-in."""

from data.registry import Registry

REGISTRY = Registry("source", "--source", group="tinydistill.sources")
register = REGISTRY.register
