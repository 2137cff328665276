"""openheg CLI: the lineage commands (split out of one file; see __init__)."""

from __future__ import annotations

from ._common import (
    Authority,
    LineageError,
    LineageTrust,
    Node,
    Parent,
    Path,
    Registry,
    Relation,
    SigningKey,
    cli,
    click,
    dt,
    emit,
    format_sflop,
    json_option,
    parse_sflop,
    pass_context,
    wire,
)


registry_option = click.option("--registry", type=click.Path(path_type=Path),
                               default=Path("lineage.json"), show_default=True,
                               help="Lineage registry file (signed by the authority's issuer).")
lineage_authority_option = click.option(
    "--authority", "authority_dir", required=True, type=click.Path(path_type=Path),
    help="Authority directory: its policy chain says who signs the registry (the issuer) "
         "and safe harbor (the Horizon signers).")


def lineage_trust(authority: Authority) -> LineageTrust:
    authority.policy_in_force()  # the chain must verify first
    return LineageTrust.from_policies(authority.policies())


def load_registry(authority_dir: Path, registry: Path, *, missing_ok: bool = False) -> Registry:
    return Registry.load(registry, lineage_trust(Authority(authority_dir)), missing_ok=missing_ok)


def parse_parent(text: str) -> Parent:
    if not text.strip():
        raise LineageError("--parent names no node: give NAME[:RELATION]")
    name, _, relation = text.rpartition(":")
    if not name:
        return Parent(text, Relation.FINE_TUNE_OF)
    try:
        return Parent(name, Relation(relation))
    except ValueError:
        raise LineageError(f"{text!r}: relation must be one of "
                           + ", ".join(r.value for r in Relation)) from None


def node_from_options(name: str, kind: str, compute: str, created: str,
                      parents: tuple[str, ...], family: str, parameters: int, tokens: int,
                      evidence: str) -> Node:
    try:
        created_date = dt.date.fromisoformat(created)
    except ValueError:
        raise LineageError(f"--created {created!r}: write YYYY-MM-DD") from None
    compute_msflop = 0 if compute in ("0", "0.0") else parse_sflop(compute)
    node = Node(name, kind, compute_msflop, created_date, tuple(parse_parent(p) for p in parents),
                evidence, family, parameters, tokens)
    node.check()
    return node


def node_options(function):
    for decorator in reversed([
        click.option("--kind", type=click.Choice(["run", "model", "dataset"]), default="model",
                     show_default=True),
        click.option("--compute", required=True, help="Its own compute in sFLOP, e.g. 3e24."),
        click.option("--created", required=True, help="Date it came to exist, YYYY-MM-DD."),
        click.option("--parent", "parents", multiple=True, metavar="NAME[:RELATION]",
                     help="fine-tune-of (default), data-generated-by, distilled-from, trained-on."),
        click.option("--family", default=""),
        click.option("--parameters", type=click.IntRange(0, wire.MAX_U64), default=0),
        click.option("--tokens", type=click.IntRange(0, wire.MAX_U64), default=0,
                     help="Training tokens."),
        click.option("--evidence", default="",
                     help="What shows it existed before 2021-09-01: a safe-harbor claim, which "
                          "counts once the Horizon signers sign it (lineage sign-harbor)."),
    ]):
        function = decorator(function)
    return function


def describe_size(size: GraphSize) -> str:
    unproven = size.unproven_harbor_claims
    return (f"compute graph size {format_sflop(size.total_msflop)} (own/planned "
            f"{format_sflop(size.planned_msflop) if size.planned_msflop else '0'}, history "
            f"{len(size.counted_nodes)} nodes, {len(size.safe_harbor_nodes)} in safe harbor)"
            + (f"; safe harbor claimed but not signed by the Horizon signers, counted in full: "
               f"{', '.join(unproven)}" if unproven else ""))


@cli.group()
def lineage() -> None:
    """The signed registry of runs, models and data, and compute graph sizes."""


@lineage.command("add")
@click.argument("name")
@node_options
@lineage_authority_option
@registry_option
@pass_context
def lineage_add(ctx: Context, name: str, kind: str, compute: str, created: str,
                parents: tuple[str, ...], family: str, parameters: int, tokens: int,
                evidence: str, authority_dir: Path, registry: Path) -> None:
    """Register a run, model or data set with its parents; the issuer signs the registry.

    A node cannot be dated before any of its parents. A safe-harbor claim
    (--created before 2021-09-01 and --evidence) counts only once the signers
    of a Horizon license have signed it with `openheg lineage sign-harbor`.

    Example: openheg lineage add base-7b --compute 8e23 --created 2024-05-01 --family acme \\
    --authority auth/
    """
    authority = Authority(authority_dir)
    reg = Registry.load(registry, lineage_trust(authority), missing_ok=True)
    node = node_from_options(name, kind, compute, created, parents, family, parameters, tokens,
                             evidence)
    reg.add(node)
    reg.save(registry, authority.key("issuer", ctx.passphrase))
    click.echo(f"{name} registered in {registry} ({len(reg.nodes)} nodes, signed by the issuer)"
               + ("; its safe-harbor claim needs the Horizon signers: openheg lineage sign-harbor"
                  if node.claims_safe_harbor else ""))


@lineage.command("sign-harbor")
@click.argument("name")
@click.option("--key", "key_file", required=True, type=click.Path(path_type=Path),
              help="Your board member key file.")
@lineage_authority_option
@registry_option
@pass_context
def lineage_sign_harbor(ctx: Context, name: str, key_file: Path, authority_dir: Path,
                        registry: Path) -> None:
    """Sign a node's safe-harbor claim as a board member or party representative.

    Safe harbor takes compute out of a workload's size, so it needs the
    signers of a Horizon license under the policy in force: its Horizon board
    quorum and every party representative. Each signs on their own machine
    and passes the registry file on. The issuer's signature over the registry
    stays valid: it covers the nodes, not these signatures.

    Example: openheg lineage sign-harbor legacy-model --key ~/board-member.key --authority auth/
    """
    reg = load_registry(authority_dir, registry)
    key = SigningKey.load(key_file, ctx.passphrase)
    reg.sign_safe_harbor(name, key)
    reg.save(registry)  # the issuer's signature still holds: the nodes did not change
    missing = reg.harbor_missing(name)
    click.echo(f"safe-harbor claim of {name} signed by {key.public_key.hex()[:16]}...; "
               + (f"it still needs {missing}" if missing else "it is in safe harbor"))


@lineage.command("size")
@click.argument("name", required=False)
@click.option("--planned", default=None, help="Planned compute of a proposed workload (sFLOP).")
@click.option("--parent", "parents", multiple=True, metavar="NAME",
              help="Direct parent of the proposed workload (repeatable).")
@lineage_authority_option
@registry_option
@json_option
def lineage_size(name: str | None, planned: str | None, parents: tuple[str, ...],
                 authority_dir: Path, registry: Path, as_json: bool) -> None:
    """Compute graph size: a registered NAME, or a proposed workload.

    Example: openheg lineage size --planned 1e25 --parent base-7b --authority auth/ --json
    """
    if (name is None) == (planned is None):
        raise click.UsageError("give a registered NAME or --planned (with --parent)")
    if name is not None and parents:
        raise click.UsageError("--parent is for a proposed workload (--planned); a registered "
                               "NAME has its own parents")
    reg = load_registry(authority_dir, registry)
    size = (reg.node_size(name) if name is not None
            else reg.graph_size(parse_sflop(planned), parents))  # type: ignore[arg-type]
    emit(size.to_json(), as_json, describe_size(size))


@lineage.command("family-check")
@click.argument("name")
@node_options
@lineage_authority_option
@registry_option
@json_option
def lineage_family_check(name: str, kind: str, compute: str, created: str,
                         parents: tuple[str, ...], family: str, parameters: int, tokens: int,
                         evidence: str, authority_dir: Path, registry: Path,
                         as_json: bool) -> None:
    """Does a new family version need a full report (>120% of the family's best)?

    Example: openheg lineage family-check acme-v3 --family acme --compute 1e24 \\
    --created 2025-01-01 --parameters 8000000000 --tokens 2000000000000 --authority auth/
    """
    reg = load_registry(authority_dir, registry)
    node = node_from_options(name, kind, compute, created, parents, family, parameters, tokens,
                             evidence)
    result = reg.family_check(node)
    emit(result, as_json, f"{name}: {result['decision']} ({'; '.join(result['reasons'])})")


@lineage.command("check")
@lineage_authority_option
@registry_option
def lineage_check(authority_dir: Path, registry: Path) -> None:
    """Check the whole registry: signed by the issuer, every parent known, no
    cycle, no node dated before a parent, safe-harbor signatures sound.

    Example: openheg lineage check --registry lineage.json --authority auth/
    """
    reg = load_registry(authority_dir, registry)
    harbored = [n for n in reg.nodes if reg.in_safe_harbor(n)]
    unproven = [n for n, node in reg.nodes.items()
                if node.claims_safe_harbor and n not in harbored]
    click.echo(f"{registry}: {len(reg.nodes)} nodes, signed by the issuer, every parent known, "
               f"no cycle, none dated before a parent; {len(harbored)} in safe harbor"
               + (f", {len(unproven)} claims not yet signed by the Horizon signers "
                  f"({', '.join(sorted(unproven))})" if unproven else ""))


# ================================================================== license
