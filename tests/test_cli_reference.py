"""docs/host/cli.md is generated from the CLI and must be current."""

from openheg.cli_reference import DOC, render


def test_cli_reference_is_current():
    assert DOC.exists(), "run: .venv/bin/python -m openheg.cli_reference --write"
    assert DOC.read_text() == render(), (
        "docs/host/cli.md is stale: run .venv/bin/python -m openheg.cli_reference --write")


def test_readme_documents_every_exit_code():
    import re

    from openheg import cli

    readme = (DOC.parents[2] / "README.md").read_text()
    section = readme[readme.index("### Exit codes"):]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", section, re.MULTILINE)}
    defined = {value for name, value in vars(cli).items() if name.startswith("EXIT_")
               and name != "EXIT_CODES"}
    assert documented == defined
