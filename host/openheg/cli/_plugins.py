"""Commands other packages add to `openheg` (entry-point group `openheg.commands`).

Importing this module attaches them to the root group; _main imports it last,
after every built-in group, so that none of those can be shadowed.

Each entry point is named after its command and loads a click command; the
simulator registers `openheg simulate` this way (as it registers emu:// with
openheg.transport), so the host library never imports it. A command whose
package fails to load still appears, and says why when it is run.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

import click

from ..errors import OpenhegError
from ._common import cli

COMMAND_ENTRY_POINTS = "openheg.commands"


def command_entry_points() -> list[EntryPoint]:
    return sorted(entry_points(group=COMMAND_ENTRY_POINTS), key=lambda ep: ep.name)


def _unloadable(name: str, error: Exception) -> click.Command:
    def fail() -> None:
        raise OpenhegError(f"the {name} command is installed but cannot load "
                           f"({type(error).__name__}: {error}); run `make setup`")
    return click.Command(name, callback=fail, help=f"(cannot load: {error})",
                         context_settings={"ignore_unknown_options": True,
                                           "allow_extra_args": True})


def add_plugin_commands(group: click.Group) -> None:
    """Attach every registered command to ``group``; a name the group already
    has is never replaced (a package cannot shadow a built-in command)."""
    for entry_point in command_entry_points():
        if entry_point.name in group.commands:
            continue
        try:
            command = entry_point.load()
        except Exception as error:  # noqa: BLE001 - reported when the command is run
            command = _unloadable(entry_point.name, error)
        group.add_command(command, entry_point.name)


add_plugin_commands(cli)
