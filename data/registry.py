"""A registry of named plug-ins (distillation methods, augmentation sources), listed and looked up by
name. Plug-ins are found by entry point: the built-in ones are declared in the package metadata
(setup.cfg) like anyone else's, so an installed package that declares an entry in the same group
extends the tool with no edit to it; one registered from Python (a notebook, a test) joins them."""

from __future__ import annotations

import dataclasses
import logging
from importlib.metadata import entry_points

from .errors import InputError
from .options import described

log = logging.getLogger("tinydistill")
OWN = "tinydistill"  # the distribution whose plug-ins are listed first


class Registry:
    """Plug-ins by name. Each plug-in has a `name` and an `Options` dataclass of its own settings
    (declared with `data.options.setting`)."""

    def __init__(self, kind: str, flag: str, group: str):
        self.kind, self.flag, self.group = kind, flag, group  # "method", "--method", "tinydistill.methods"
        self._entries: dict[str, object] = {}
        self._loaded = False

    def _load(self) -> None:
        """Every plug-in of the entry-point group, once, on first use. The order they are listed in does
        not depend on what was imported first: ours by name, then other packages' by name, then any
        registered from Python. One that fails to load is left out (with whatever its module registered
        as it failed) with a warning naming it and its package."""
        if not self._loaded:
            self._loaded = True
            found = sorted(entry_points(group=self.group), key=lambda point: (_distribution(point) != OWN, point.name))
            for point in found:
                self._load_one(point)
            declared = [point.name for point in found if point.name in self._entries]
            self._entries = {name: self._entries[name] for name in dict.fromkeys([*declared, *self._entries])}

    def _load_one(self, point) -> None:
        before = set(self._entries)
        try:
            plugin = point.load()
            if plugin.name != point.name:
                raise ValueError(f"its entry point is named {point.name!r}, the {self.kind} itself {plugin.name!r}")
            self.register(plugin)
        except Exception as error:  # an outside package's bug must not take the tool down
            for name in set(self._entries) - before:
                del self._entries[name]
            log.warning(
                f"warning: the {self.kind} plug-in {point.name!r} ({point.value}, package "
                f"{_distribution(point)}) is left out: {type(error).__name__}: {error}"
            )

    def register(self, plugin):
        """Add a plug-in (an instance, or a class that is instantiated with no arguments); returns its
        argument, so that it serves as a class decorator (a plug-in module registers itself as it is
        imported, entry point or not). A name registered twice is refused."""
        entry = plugin() if isinstance(plugin, type) else plugin
        name = entry.name
        if not name or not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"a {self.kind} name must be a word (letters, digits, - or _), got {name!r}")
        if name in self._entries and type(self._entries[name]) is not type(entry):
            raise ValueError(f"a {self.kind} named {name!r} is registered already")
        self._entries[name] = entry
        return plugin

    def available(self) -> tuple[str, ...]:
        self._load()
        return tuple(self._entries)

    def get(self, name: str):
        self._load()
        if not self._entries:
            raise InputError(
                f"no {self.kind} is registered: the entry points of group {self.group} are missing, so tinydistill "
                "is not installed. Install it from the project folder: pip install -e ."
            )
        if name not in self._entries:
            raise InputError(f"{self.flag} must be one of {', '.join(self._entries)}, got {name!r}")
        return self._entries[name]

    def unregister(self, name: str) -> None:
        """Take a plug-in out again (a notebook, a test)."""
        self._entries.pop(name, None)

    def entries(self) -> list:
        self._load()
        return list(self._entries.values())

    def option_names(self) -> tuple[str, ...]:
        """Every declared option name of every registered plug-in, once each (the plug-in flags)."""
        self._load()
        return tuple(dict.fromkeys(s.name for plugin in self._entries.values() for s in described(plugin.Options)))

    def typed_options(self, name: str, values: dict) -> dict:
        """The option values, among those of any plug-in's flags, that plug-in `name` takes (None, False or
        () stands for a flag not typed: the plug-in's default applies). A value only other plug-ins take
        is refused, since it would silently do nothing."""
        plugin = self.get(name)
        typed = {
            key: value for key, value in values.items() if value is not None and value is not False and value != ()
        }
        own = {field.name for field in dataclasses.fields(plugin.Options)}
        foreign = [key for key in typed if key not in own]
        if foreign:
            flags = ", ".join(self._flag(key) for key in foreign)
            raise InputError(f"{self.flag} {name} has no use for {flags}: drop {'it' if len(foreign) == 1 else 'them'}")
        return typed

    def _flag(self, option: str) -> str:
        """The command-line flag of an option name (its declared flag, e.g. --max-seq-length)."""
        for plugin in self._entries.values():
            for setting in described(plugin.Options):
                if setting.name == option:
                    return setting.flag
        return "--" + option.replace("_", "-")


def _distribution(point) -> str:
    return point.dist.name if point.dist is not None else "unknown"
