"""A registry of named plug-ins (distillation methods, augmentation sources): the built-in ones and any
a user registers from outside the package, listed and looked up by name."""

from __future__ import annotations

import dataclasses

from .errors import InputError
from .options import described


class Registry:
    """Plug-ins by name. Each plug-in has a `name` and an `Options` dataclass of its own settings
    (declared with `data.options.setting`)."""

    def __init__(self, kind: str, flag: str):
        self.kind, self.flag = kind, flag  # "method", "--method": for messages
        self._entries: dict[str, object] = {}

    def register(self, plugin):
        """Add a plug-in (an instance, or a class that is instantiated with no arguments); returns its
        argument, so that it serves as a class decorator. A name registered twice is refused."""
        entry = plugin() if isinstance(plugin, type) else plugin
        name = entry.name
        if not name or not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"a {self.kind} name must be a word (letters, digits, - or _), got {name!r}")
        if name in self._entries and type(self._entries[name]) is not type(entry):
            raise ValueError(f"a {self.kind} named {name!r} is registered already")
        self._entries[name] = entry
        return plugin

    def available(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def get(self, name: str):
        if name not in self._entries:
            raise InputError(f"{self.flag} must be one of {', '.join(self._entries)}, got {name!r}")
        return self._entries[name]

    def unregister(self, name: str) -> None:
        """Take a plug-in out again (a notebook, a test)."""
        self._entries.pop(name, None)

    def entries(self) -> list:
        return list(self._entries.values())

    def option_names(self) -> tuple[str, ...]:
        """Every declared option name of every registered plug-in, once each (the plug-in flags)."""
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


def _untyped(value) -> bool:
    """A flag's value when it was not typed: None (no default of its own), False (a flag off), ()."""
    return value is None or value is False or (isinstance(value, tuple) and not value)
