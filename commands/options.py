"""Command-line flags made from the library's settings declarations (`data.options.setting`), so that
each flag's default and help are written once, beside the setting it fills; and flags of registered
plug-ins (methods, sources), read from the registry each time a command runs, so that a plug-in
registered from outside the package brings its own choices and flags."""

from __future__ import annotations

import click

from data.options import Described, described
from data.registry import Registry


def flag_for(setting: Described, *, default=..., help: str | None = None) -> click.Option:
    """A click option for one declared setting (its own default unless `default` is given)."""
    default = setting.default if default is ... else default
    kwargs = {"default": default, "help": help or setting.help}
    if setting.type is bool:
        decls = [f"{setting.flag}/--no-{setting.flag[2:]}" if setting.negatable else setting.flag, setting.name]
        return click.Option(decls, is_flag=True, show_default=setting.negatable, **kwargs)
    if setting.type is tuple:
        return click.Option([setting.flag, setting.name], multiple=True, **kwargs)
    kwargs["show_default"] = default is not None
    if setting.choices:
        kwargs["type"] = click.Choice(setting.choices)
    elif setting.type in (int, float) and (setting.minimum is not None or setting.maximum is not None):
        ranged = click.IntRange if setting.type is int else click.FloatRange
        bounds = {"min": setting.minimum, "max": setting.maximum}
        if setting.open_interval:
            bounds |= {"min_open": True, "max_open": True}
        kwargs["type"] = ranged(**bounds)
    else:
        kwargs["type"] = setting.type
    return click.Option([setting.flag, setting.name], **kwargs)


def flags_of(settings_class, *, skip: tuple[str, ...] = ()) -> list[click.Option]:
    """A click option for every declared setting of the class, but those named in `skip`."""
    return [flag_for(s) for s in described(settings_class) if s.name not in skip]


def flag_named(settings_class, name: str) -> click.Option:
    """The click option of one declared setting, for a command that takes it alone."""
    return flag_for(next(s for s in described(settings_class) if s.name == name))


def with_flags(options: list[click.Option]):
    """Decorate a click command function with ready-made options (in the order given)."""

    def decorate(function):
        params = getattr(function, "__click_params__", [])
        params.extend(reversed(options))
        function.__click_params__ = params
        return function

    return decorate


def settings_from(settings_class, values: dict, **more):
    """An instance of the settings class from the command's values for its declared settings (taken
    out of `values`), plus `more`."""
    names = [s.name for s in described(settings_class)]
    return settings_class(**{name: values.pop(name) for name in names if name in values}, **more)


def plugin_flags(registry: Registry) -> list[click.Option]:
    """One flag per option name of the registered plug-ins, with no default of its own (None: the
    plug-in fills its default, so that a flag of another plug-in can be refused when it is typed).
    The help says which plug-ins take it and their defaults."""
    owners: dict[str, list[tuple[str, Described]]] = {}
    for plugin in registry.entries():
        for setting in described(plugin.Options):
            owners.setdefault(setting.name, []).append((plugin.name, setting))
    options = []
    for name, taken_by in owners.items():
        setting = taken_by[0][1]
        defaults = ", ".join(f"{_shown(s.default)} ({plugin})" for plugin, s in taken_by if s.default is not None)
        plugins = ", ".join(plugin for plugin, _ in taken_by)
        help = f"[{registry.flag} {plugins}] {setting.help}"
        if defaults and setting.type is not bool:
            help += f" Default: {defaults}."
        options.append(flag_for(setting, default=False if setting.type is bool else None, help=help))
    return options


def _shown(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


class PluginCommand(click.Command):
    """A command whose plug-in choice (e.g. --method) and plug-in flags come from a registry when the
    command runs, not when the module was imported."""

    def __init__(self, *args, registry: Registry, choice_help: str, choice_default: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.registry, self.choice_help, self.choice_default = registry, choice_help, choice_default

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        names = self.registry.available()
        summaries = "; ".join(f"{name}: {self.registry.get(name).summary}" for name in names)
        choice = click.Option(
            [self.registry.flag, self.registry.flag[2:].replace("-", "_")],
            type=click.Choice(names),
            default=self.choice_default,
            show_default=True,
            help=f"{self.choice_help} {summaries}.",
        )
        own = super().get_params(ctx)
        return [choice, *plugin_flags(self.registry), *own]


def plugin_command(name: str, registry: Registry, choice_help: str, choice_default: str):
    """A click command whose `registry.flag` choice and plug-in flags come from the registry at run time."""
    return click.command(
        name, cls=PluginCommand, registry=registry, choice_help=choice_help, choice_default=choice_default
    )


def out_flag(help: str, *, folder: bool) -> click.Option:
    """--out: where a command writes (a folder, or a file)."""
    return click.Option(["--out"], type=click.Path(file_okay=not folder, dir_okay=folder), default=None, help=help)
