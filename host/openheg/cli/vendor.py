"""openheg CLI: the vendor commands (split out of one file; see __init__)."""

from __future__ import annotations

from ._common import (
    OutputPath,
    Path,
    VENDOR_KEY,
    cli,
    click,
    create_vendor,
    emit,
    endorsement_list_path,
    json_option,
    load_public_key,
    load_vendor_list,
    pass_context,
)


@cli.group()
def vendor() -> None:
    """The chip vendor: its key and the public list of device keys it endorsed."""


@vendor.command("create")
@click.argument("directory", type=OutputPath(folder=True))
@pass_context
def vendor_create(ctx: Context, directory: Path) -> None:
    """Make a vendor key and an empty endorsement list in DIRECTORY.

    Example: openheg vendor create vendor/
    """
    role = create_vendor(directory, ctx.passphrase)
    click.echo(f"vendor key {role.public_key.hex()} written to {directory / VENDOR_KEY}")


@vendor.command("list")
@click.argument("directory", type=click.Path(path_type=Path))
@json_option
def vendor_list(directory: Path, as_json: bool) -> None:
    """Show the vendor's endorsement list (publish endorsements.json to verifiers).

    Example: openheg vendor list vendor/ --json
    """
    key = load_public_key(Path(directory) / (VENDOR_KEY + ".pub"))
    listing = load_vendor_list(directory, key)
    ids = sorted(k.hex() for k in listing.endorsements)
    emit({"vendor_key": key.hex(), "devices": ids, "path": str(endorsement_list_path(directory))},
         as_json, f"{len(ids)} endorsed devices in {endorsement_list_path(directory)}"
         + "".join(f"\n  {i}" for i in ids))


# =================================================================== device
