"""Every command of the `openheg` tree, fed bad values option by option.

The cases are generated from the click tree itself: each command's options and
arguments are found by walking `openheg.cli`, and each gets the bad values of
its kind (numbers that overflow or are not numbers, paths that are folders,
sit under a regular file or do not exist, JSON nested past any parser's depth
or of the wrong shape, names that are not UTF-8, ledgers that cannot be
opened). A command added to the tree is swept as soon as it exists: the one
thing it needs is a valid baseline invocation in BASELINES, and
test_every_command_has_a_baseline fails until it has one.

For every case the CLI must refuse with one line that names the problem,
exit with the code of a refusal (never 0, never 70 = internal error), show no
traceback, and leave every file it can see unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

import click
import pytest

from openheg.cli import EXIT_INTERNAL, EXIT_OK, cli, main

EMU_HOME = "home"
NONCE_FILE = "nonce.txt"
# The simulator's classifier file: only its digest matters to the sweep, which
# never lets a command run far enough to load it.
MODEL_BYTES = b"a classifier model file\n"
MODEL_SHA256 = hashlib.sha256(MODEL_BYTES).hexdigest()
# The verifier service's URL in a baseline: nothing listens on port 1, so a
# command that got past its own checks would fail on a line that names no
# swept parameter.
NO_SERVICE = "http://127.0.0.1:1"


def commands(group: click.Group = cli, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands(command, prefix + (name,))
        else:
            yield prefix + (name,), command


# A valid invocation of each command, by parameter name: the sweep changes one
# parameter at a time, so each refusal is caused by the bad value alone.
# "@nonce" is replaced by the nonce of the world's attestation.
BASELINES: dict[str, dict[str, object]] = {
    "attest collect": {"urls": ["emu://chip0"], "lists": ["vendor/endorsements.json"],
                       "vendor_keys": ["vendor/vendor.key.pub"]},
    "attest get": {"url": "emu://chip0", "out": "att2.bin"},
    "attest series": {},
    "attest verify": {"attestation_file": "att.bin", "nonce": "@nonce",
                      "lists": ["vendor/endorsements.json"],
                      "vendor_keys": ["vendor/vendor.key.pub"]},
    "authority beacon": {"urls": ["emu://chip0"], "authority_dir": "auth"},
    "authority create": {"directory": "auth2"},
    "authority keygen": {"path": "k/new.key"},
    "authority show": {"authority_dir": "auth"},
    "board combine": {"proposal_file": "prop.bin", "share_files": ["share.bin", "share2.bin"],
                      "authority_dir": "auth", "out": "combined.bin"},
    "board sign": {"proposal_file": "prop.bin", "key_file": "auth/keys/board-3.key",
                   "out": "share3.bin"},
    "demo": {"out": "demo-out", "chips": 1},
    "device endorsement": {"url": "emu://chip0", "out": "chip0.endorsement"},
    "device info": {"url": "emu://chip0"},
    "device log": {"url": "emu://chip0"},
    "device provision": {"urls": ["emu://chip0"], "authority_dir": "auth",
                         "vendor_dir": "vendor"},
    "device run": {"url": "emu://chip0", "lane": "fp8", "ops": "1000"},
    "ledger devices": {},
    "ledger migrate": {},
    "ledger status": {},
    "ledger workloads": {},
    "license install": {"url": "emu://chip0", "license_file": "lic.bin"},
    "license issue": {"authority_dir": "auth", "workload": "w2", "planned": "1e9",
                      "device_ids": ["00" * 32 + ":1"], "out": "lic2.bin"},
    "license revoke": {"license_id": "00" * 16, "reason": "test"},
    "license show": {"license_file": "lic.bin"},
    "license verify": {"license_file": "lic.bin", "authority_dir": "auth"},
    "lineage add": {"name": "m2", "compute": "1e9", "created": "2024-01-01",
                    "authority_dir": "auth"},
    "lineage check": {"authority_dir": "auth"},
    "lineage family-check": {"name": "m3", "compute": "1e9", "created": "2024-01-01",
                             "family": "fam", "authority_dir": "auth"},
    "lineage sign-harbor": {"name": "base", "key_file": "auth/keys/board-1.key",
                            "authority_dir": "auth"},
    "lineage size": {"name": "base", "authority_dir": "auth"},
    "order issue": {"kind": "halt", "fleet": True, "authority_dir": "auth",
                    "signers": ["board-1", "board-2"], "out": "halt2.order"},
    "order send": {"urls": ["emu://chip0"], "order_file": "halt.order"},
    "policy draft": {"authority_dir": "auth", "out": "prop2.bin"},
    "policy install": {"urls": ["emu://chip0"], "authority_dir": "auth"},
    "policy show": {"authority_dir": "auth"},
    "policy thresholds": {"authority_dir": "auth"},
    "report": {"workload": "w", "authority_dir": "auth", "out": "report-out"},
    "simulate": {"scenario_file": "scenario.toml", "out": "sim-out", "workers": 1,
                 "classifier_file": "model.bin", "classifier_sha256": MODEL_SHA256},
    "vendor create": {"directory": "vendor2"},
    "vendor list": {"directory": "vendor"},
    "verifier fleet-orders post": {"order_file": "halt.order", "service": NO_SERVICE,
                                   "token_file": "regulator.token"},
    "verifier fleet-orders push": {"device_urls": ["emu://chip0"], "service": NO_SERVICE},
    "verifier serve": {"config_file": "verifier.toml"},
}

# Paths a command writes (the rest it reads).
OUTPUT_PATHS = {"out", "out_dir", "directory", "path"}
# Directories a command writes into or creates.
OUTPUT_DIRS = {("authority", "create", "directory"), ("vendor", "create", "directory"),
               ("demo", "out"), ("report", "out"), ("license", "issue", "out_dir"),
               ("simulate", "out")}
# Read directories.
INPUT_DIRS = {"authority_dir", "vendor_dir"}
# Input files a command may create (a registry it registers the first node in).
MAY_BE_NEW = {("lineage", "add", "registry"), ("license", "issue", "registry"),
              ("lineage", "family-check", "registry")}
# Input files whose empty form is valid (a configuration of defaults).
EMPTY_IS_VALID = {("verifier", "serve", "config_file")}
# Text parameters by what they hold.
URLS = {"url", "urls", "device_urls", "device_url"}
AMOUNTS = {"planned", "compute"}
ASSIGNMENTS = {"assignments"}
PUBLIC_KEYS = {"vendor_keys", "board_keys", "inspector_keys", "party_keys", "revoke_keys",
               "issuer", "time_authority"}
HEX = {"nonce", "license_id", "device_id", "classifier_sha256", "policy_digest"}
SERVICE_URLS = {"service"}  # the verifier service's base URL
KEY_NAMES = {"inspector", "signers", "key_name"}  # file names in the authority's keys/
NODE_NAMES = {"workload", "name", "parents"}  # names of workloads and lineage nodes
FREE_TEXT = {"family", "evidence", "note", "reason"}  # any UTF-8 text, empty included
DATES = {"created", "on_date"}
# Parameters whose bad values the sweep does not feed: the listen address of
# the verifier service and the simulator's Dask scheduler (any string is an
# address to try; tests/test_simulate_dask.py runs the cluster).
NOT_SWEPT = {("verifier", "serve", "host"), ("simulate", "dask_scheduler")}

NUMBER_WORDS = ["1e400", "nan", "inf", "-inf", "", "1e999999"]
HUGE = str(10**40)


def bad_values(path: tuple[str, ...], param: click.Parameter) -> list[str]:
    """The bad values for one parameter, by its type and what it holds."""
    name = param.name
    kind = param.type
    if isinstance(kind, click.types.IntParamType) or isinstance(kind, click.IntRange):
        return NUMBER_WORDS + ["-1", "1.5", HUGE, "0x10"]
    if isinstance(kind, click.types.FloatParamType):
        return NUMBER_WORDS + ["-1", "1e15", HUGE]
    if isinstance(kind, click.Choice):
        return ["", "no-such-choice"]
    if isinstance(kind, click.Path):
        if name in OUTPUT_PATHS:
            if path + (name,) in OUTPUT_DIRS:
                return ["@file", "@file/under"]
            return ["@folder", "@file/under/x"]
        if name in INPUT_DIRS:
            return ["@file", "@missing/dir", "@folder", "@file/under"]
        if path + (name,) in MAY_BE_NEW:
            written = ["@file/under"] if path == ("lineage", "add") else []
            return written + ["@folder", "@deep.json", "@shape-list.json", "@shape-object.json",
                              "@not-utf8"]
        if path + (name,) in EMPTY_IS_VALID:
            return ["@folder", "@file/under", "@missing/dir/x", "@deep.json", "@not-utf8"]
        return ["@folder", "@file/under", "@missing/dir/x", "@deep.json", "@shape-list.json",
                "@shape-object.json", "@empty", "@not-utf8", "@huge.json"]
    if name in URLS:
        # device provision is the factory: a new emu:// name makes a new chip there.
        typo = [] if path == ("device", "provision") else ["emu://chipp0"]
        return typo + [ "emu://", "emu://../x", "mysql://nowhere/x", "", "@folder"]
    if name == "ops":
        return NUMBER_WORDS + ["-1", "1.5", "1e40", HUGE + ".5"]
    if name in AMOUNTS:
        return NUMBER_WORDS + ["-1", "1e40000", "-0.5"]
    if name in ASSIGNMENTS:
        # A new policy may change board_threshold by vote; a new authority sets it
        # with --threshold, and --set saying it too would be a second answer.
        duplicate = ["board_threshold=1"] if path == ("authority", "create") else []
        return duplicate + ["X=1e400", "frontier_base_msflop=1e400", "frontier_base_msflop=nan",
                "frontier_base_msflop=inf", "frontier_base_msflop=-1",
                "frontier_base_msflop=1e999999", "=", "noequals"]
    if name in SERVICE_URLS:
        return ["", "ftp://127.0.0.1", "http://", "127.0.0.1:8642", "\udcff"]
    if name in PUBLIC_KEYS:
        return ["00" * 32, "ff" * 32, "@folder", "@missing/dir/x", "@empty", "@not-utf8"]
    if name in HEX:
        return ["zz", "00", "", "0" * 10000, "\udcff" * 4]
    if name == "device_ids":
        return ["zz:1", "00:1", ("00" * 32) + ":1e400", ("00" * 32) + ":" + HUGE * 10,
                ("00" * 32) + ":-1", ":"]
    if name in KEY_NAMES:
        return ["\udcff\udcfe", "", "x" * 100_000, "../issuer", "a/b"]
    if name in NODE_NAMES:
        return ["\udcff\udcfe", ""]
    if name in FREE_TEXT:
        return ["\udcff\udcfe"]
    if name in DATES:
        return ["nan", "2024-13-01", "99999-01-01", "", "\udcff"]
    raise AssertionError(f"{' '.join(path)} {name}: the sweep has no bad values for it; add its "
                         "kind to bad_values")


def params(command: click.Command):
    return [p for p in command.params if p.name not in ("as_json", "help")]


def argv(path: tuple[str, ...], command: click.Command, values: dict[str, object]) -> list[str]:
    args: list[str] = list(path)
    for param in params(command):
        if param.name not in values:
            continue
        value = values[param.name]
        if isinstance(param, click.Argument):
            args.extend(value if isinstance(value, list) else [value])  # type: ignore[arg-type]
        elif value is True:
            args.append(param.opts[0])
        else:
            for item in value if isinstance(value, list) else [value]:  # type: ignore[union-attr]
                args.extend([param.opts[0], str(item)])
    return args


def case_id(path, name, value):
    shown = value if len(value) < 24 else f"{value[:12]}...({len(value)})"
    return f"{'-'.join(path)}:{name}={shown.encode('ascii', 'backslashreplace').decode()}"


CASES = []
for _path, _command in commands():
    for _param in params(_command):
        if _path + (_param.name,) in NOT_SWEPT or getattr(_param, "is_flag", False):
            continue
        for _value in bad_values(_path, _param):
            CASES.append(pytest.param(_path, _param.name, _value,
                                      id=case_id(_path, _param.name, _value)))

# The root group's options, each with the commands that use it: --ledger with
# commands that read the ledger and with some that write it.
LEDGER_USERS = [("ledger", "devices"), ("ledger", "status"), ("ledger", "workloads"),
                ("attest", "series"), ("ledger", "migrate"), ("license", "issue")]
GLOBAL_CASES = [
    *[pytest.param(path, ["--ledger", value], id=f"{'-'.join(path)}:--ledger={value}")
      for path in LEDGER_USERS
      for value in ["mysql://nobody@nowhere/x", "@missing/dir/x.sqlite", "@folder",
                    "@file/under", "@newer-ledger.sqlite", "@not-a-ledger.sqlite",
                    "postgresql://nobody@127.0.0.1:1/x", "sqlite:///@missing/dir/y.sqlite"]],
    *[pytest.param(("device", "info"), [option, value], id=f"device-info:{option}={value}")
      for option, value in [("--home", "@file"), ("--home", "@file/under"),
                            ("--time-from", "@missing/dir"), ("--time-from", "@file"),
                            ("--time-from", "@folder"), ("--timeout", "nan"),
                            ("--timeout", "inf"), ("--timeout", "-1"), ("--timeout", "1e400"),
                            ("--retries", "1e400"), ("--retries", "-1")]],
]


def tree_state(root: Path) -> dict[str, tuple[int, int] | None]:
    """Every folder under root, and every file with its size and modification
    time: a write, a new file or a new folder shows (hashing each file every
    case would cost most of the sweep's time). SQLite's -wal and -shm files are
    left out: they come and go whenever a ledger is opened, even to be refused,
    and hold nothing the database file does not."""
    state: dict[str, tuple[int, int] | None] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            state[os.path.join(folder, name)] = None
        for name in files:
            if not name.endswith(("-wal", "-shm")):
                stat = os.stat(os.path.join(folder, name))
                state[os.path.join(folder, name)] = (stat.st_size, stat.st_mtime_ns)
    return state


def ok(*args: str) -> None:
    code = main(list(args))
    assert code == EXIT_OK, f"world setup: openheg {' '.join(args)} exited {code}"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One authority, vendor, provisioned emulated chip, license, attestation,
    proposal, share, fleet order and lineage registry, plus the bad files."""
    root = tmp_path_factory.mktemp("world")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("OPENHEG_HOME", str(root / EMU_HOME))
        patch.delenv("OPENHEG_LEDGER", raising=False)
        patch.delenv("OPENHEG_TIME_FROM", raising=False)
        patch.delenv("OPENHEG_DEBUG", raising=False)
        ok("authority", "create", "auth")
        ok("vendor", "create", "vendor")
        ok("device", "provision", "emu://chip0", "--authority", "auth", "--vendor", "vendor")
        patch.setenv("OPENHEG_TIME_FROM", "auth")
        ok("license", "issue", "--authority", "auth", "--device", "emu://chip0",
           "--workload", "w", "--planned", "1e9", "--out", "lic.bin")
        ok("lineage", "add", "base", "--compute", "1e9", "--created", "2024-01-01",
           "--authority", "auth")
        ok("attest", "get", "emu://chip0", "--out", "att.bin")
        ok("policy", "draft", "--authority", "auth", "--set", "frontier_base_msflop=1000",
           "--out", "prop.bin")
        ok("board", "sign", "prop.bin", "--key", "auth/keys/board-1.key", "--out", "share.bin")
        ok("board", "sign", "prop.bin", "--key", "auth/keys/board-2.key", "--out", "share2.bin")
        ok("order", "issue", "--kind", "halt", "--fleet", "--authority", "auth",
           "--signer", "board-1", "--signer", "board-2", "--out", "halt.order")
        from openheg import wire

        nonce = wire.Attestation.from_bytes((root / "att.bin").read_bytes()).nonce.hex()
        (root / "verifier.toml").write_text("")
        (root / "regulator.token").write_text("regulator-token-" + "0" * 32 + "\n")
        examples = Path(__file__).resolve().parents[1] / "examples"
        (root / "scenario.toml").write_text((examples / "site_halt.toml").read_text())
        (root / "model.bin").write_bytes(MODEL_BYTES)
        (root / "folder").mkdir()
        (root / "file").write_text("a regular file\n")
        (root / "empty").write_bytes(b"")
        (root / "not-utf8").write_bytes(b"\xff\xfe\xfa" * 40)
        (root / "deep.json").write_text("[" * 200_000 + "]" * 200_000)
        (root / "shape-list.json").write_text("[1, 2, 3]")
        (root / "shape-object.json").write_text(json.dumps(
            {"format": "openheg-lineage/v2", "nodes": 5, "endorsements": "x", "ledger": 1}))
        (root / "huge.json").write_text(json.dumps({"nodes": ["x" * 1000] * 2_000}))
        (root / "not-a-ledger.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
        newer = sqlite3.connect(root / "newer-ledger.sqlite")
        newer.execute("PRAGMA journal_mode=WAL")  # as every ledger openheg writes
        newer.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        newer.execute("INSERT INTO alembic_version VALUES ('ffffffffffff')")
        newer.commit()
        newer.close()
        yield root, nonce


def resolve(value: str, root: Path, nonce: str) -> str:
    if value == "@nonce":
        return nonce
    return value.replace("@", f"{root}/") if "@" in value else value


@pytest.fixture
def refuse(world, capsys, monkeypatch):
    """Run one bad invocation and check the refusal."""
    root, nonce = world
    monkeypatch.chdir(root)
    monkeypatch.setenv("OPENHEG_HOME", str(root / EMU_HOME))
    monkeypatch.setenv("OPENHEG_TIME_FROM", "auth")
    monkeypatch.delenv("OPENHEG_LEDGER", raising=False)
    monkeypatch.delenv("OPENHEG_DEBUG", raising=False)
    from openheg.verifier import app

    def serve(config):  # a configuration the service accepted: the case failed
        raise AssertionError(f"verifier serve accepted its configuration and would serve")

    monkeypatch.setattr(app, "serve", serve)

    def check(args: list[str], names_one_of: list[str]) -> str:
        args = [resolve(a, root, nonce) for a in args]
        before = tree_state(root)
        capsys.readouterr()
        code = main(args)
        captured = capsys.readouterr()
        err = captured.err
        assert code not in (EXIT_OK, EXIT_INTERNAL), (code, err, captured.out[:300])
        assert "Traceback" not in err + captured.out
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("openheg: error: "), err
        assert any(n in lines[0] for n in names_one_of if n), (lines[0], names_one_of)
        assert tree_state(root) == before, f"files changed by a refused command: {args}"
        return lines[0]

    return check


def test_every_command_has_a_baseline():
    missing = [" ".join(path) for path, _ in commands() if " ".join(path) not in BASELINES]
    assert not missing, f"add a valid invocation to BASELINES for: {missing}"
    for path, command in commands():
        known = {p.name for p in params(command)}
        assert set(BASELINES[" ".join(path)]) <= known, path


def names_for(param: click.Parameter, value: str) -> list[str]:
    """What the error line may name: the option, the argument, the value or its file."""
    names = list(param.opts) + [param.human_readable_name, param.name.upper(), repr(value),
                                value[:8], param.name.rstrip("s").upper().split("_")[-1],
                                repr(value.split("=")[0])]
    if isinstance(param, click.Argument):
        names.append(param.name.replace("_", " "))
    if value and len(value) < 200:
        names += [value, value.lstrip("@"), value.split("/")[-1], value.split("=")[0]]
    elif value:
        names.append(value[:8])
    return names


@pytest.mark.parametrize("path,name,value", CASES)
def test_bad_value_is_refused_in_one_line(refuse, path, name, value):
    command = dict(commands())[path]
    param = next(p for p in params(command) if p.name == name)
    values = dict(BASELINES[" ".join(path)])
    values[name] = [value] if param.multiple or (
        isinstance(param, click.Argument) and param.nargs == -1) else value
    refuse(argv(path, command, values), names_for(param, value) + names_extra(value))


def names_extra(value: str) -> list[str]:
    """Words a message about this kind of value names instead of the value itself."""
    if value.startswith("\udcff") or value == "@not-utf8":
        return ["UTF-8"]
    if value in ("@deep.json", "@huge.json", "@shape-list.json", "@shape-object.json", "@empty"):
        return ["deep.json", "huge.json", "shape-list.json", "shape-object.json", "empty"]
    return []


@pytest.mark.parametrize("path,options", GLOBAL_CASES)
def test_bad_root_option_is_refused_in_one_line(refuse, path, options):
    command = dict(commands())[path]
    args = argv(path, command, BASELINES[" ".join(path)])
    option, value = options
    refuse([option, value, *args], [option, value.lstrip("@"), value.split("/")[-1],
                                    os.path.dirname(value.lstrip("@")), "ledger"])
