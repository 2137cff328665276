"""tools/install-system-deps.sh checks Debian packages by package, not by command.

A fresh machine of this image had `clang-14` (pulled in by clang-tidy) but not
`libclang-rt-14-dev`; the setup looked for the command, never installed the
libFuzzer runtime, and `make test` failed on the fuzz smoke test. These tests
run the real script against stand-in `dpkg-query` and `apt-get` commands that
report a chosen set of packages as installed and record what they are asked
to install.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "install-system-deps.sh"

FAKE_DPKG_QUERY = """#!/bin/sh
# dpkg-query -W -f=FORMAT PACKAGE: "installed" unless PACKAGE is listed in $FAKE_MISSING.
for package in "$@"; do :; done
if grep -qx "$package" "$FAKE_MISSING"; then printf not-installed; exit 1; fi
printf installed
"""

FAKE_APT_GET = """#!/bin/sh
# Records each call; an install takes its packages off $FAKE_MISSING.
echo "$*" >> "$FAKE_APT_LOG"
installing=0
for arg in "$@"; do
  case "$arg" in
    install) installing=1 ;;
    -*|*=*) ;;
    *) [ "$installing" = 1 ] && sed -i "/^$arg\\$/d" "$FAKE_MISSING" ;;
  esac
done
exit 0
"""


def run_setup(tmp_path: Path, missing: list[str], *args: str) -> tuple[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("dpkg-query", FAKE_DPKG_QUERY), ("apt-get", FAKE_APT_GET),
                       ("sudo", '#!/bin/sh\nexec "$@"\n'),
                       # The command is present, as on the machine image that failed.
                       ("clang-14", "#!/bin/sh\nexit 0\n")):
        path = bin_dir / name
        path.write_text(text)
        path.chmod(0o755)
    db = tmp_path / "missing.txt"
    db.write_text("".join(f"{p}\n" for p in missing))
    log = tmp_path / "apt.log"
    log.write_text("")
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", FAKE_MISSING=str(db),
               FAKE_APT_LOG=str(log))
    done = subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True,
                          text=True, check=True)
    return log.read_text(), done.stdout


def group_packages(group: str) -> list[str]:
    out = subprocess.run(["bash", str(SCRIPT), "--list", group], capture_output=True, text=True,
                         check=True).stdout
    return out.split()


def test_a_present_command_does_not_stand_in_for_its_runtime_package(tmp_path):
    log, stdout = run_setup(tmp_path, ["libclang-rt-14-dev"], "test")
    install_calls = [line for line in log.splitlines() if " install " in f" {line} "]
    assert len(install_calls) == 1
    assert install_calls[0].split()[-1] == "libclang-rt-14-dev"
    assert "installing Debian packages: libclang-rt-14-dev" in stdout


def test_nothing_is_installed_when_every_package_is_there(tmp_path):
    log, _ = run_setup(tmp_path, [], "test")
    assert log == ""


def test_groups_name_the_packages_the_makefile_header_promises():
    header = (ROOT / "Makefile").read_text().split("SHELL :=")[0]
    for package in group_packages("test") + group_packages("synth") + group_packages("soc"):
        assert package in header, f"the Makefile header does not say it installs {package}"
