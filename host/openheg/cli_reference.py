"""The CLI reference (docs/host/cli.md), generated from the click tree.

`python -m openheg.cli_reference --write` rewrites it; tests/test_cli_reference.py
fails when the committed file is stale, so the reference cannot drift from
the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .cli import EXIT_CODES, cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "host" / "cli.md"


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    for name in sorted(group.commands):
        command = group.commands[name]
        yield path + (name,), command
        if isinstance(command, click.Group):
            yield from _commands(command, path + (name,))


def render() -> str:
    lines = ["# `openheg` command reference", "",
             "Generated from the CLI by `python -m openheg.cli_reference --write`; do not edit.",
             "", "## Global options", "", "```", _help(cli, ("openheg",)).rstrip(), "```", "",
             "## Exit codes by error kind", "", "| error | exit code |", "| --- | --- |"]
    lines += [f"| `{kind.__name__}` | {code} |" for kind, code in EXIT_CODES]
    lines += ["", "## Commands", ""]
    for path, command in _commands(cli):
        title = "openheg " + " ".join(path)
        lines += [f"### `{title}`", "", "```", _help(command, ("openheg", *path)).rstrip(),
                  "```", ""]
    return "\n".join(lines)


def _help(command: click.Command, path: tuple[str, ...]) -> str:
    # The same help options as the real CLI (click caches a command's help
    # option the first time it is asked for it).
    with click.Context(command, info_name=" ".join(path), terminal_width=100,
                       max_content_width=100,
                       help_option_names=cli.context_settings["help_option_names"]) as ctx:
        return command.get_help(ctx)


def main() -> int:
    text = render()
    if "--write" in sys.argv[1:]:
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(text)
        print(f"wrote {DOC}")
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
