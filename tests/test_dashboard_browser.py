"""The verifier's dashboard in a real browser: `openheg verifier serve` runs as
a process, emulated chips compute under licenses and push their attestations to
it over HTTP, and headless Chromium (Debian's chromium and chromium-driver,
through Selenium) reads the pages a person would. What the pages show is checked
against the ledger the service wrote, read here on its own.

The screenshots land in build/dashboard/; OPENHEG_WRITE_SCREENSHOTS=1 also copies
them to docs/img/, which docs/verifier.md shows."""

from __future__ import annotations

import io
import os
import shutil
import sys
from pathlib import Path

import httpx
import pytest
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait
from verifier_world import (AUTH, TOKEN, fleet,  # noqa: F401 (fleet: a fixture)
                            running_verifier, verifier_toml)

from openheg.authority import Authority
from openheg.ledger import Ledger
from openheg.licensing import issue_license
from openheg.report import usage_anomalies
from openheg.verifier.config import VerifierConfig
from openheg.verifier.dashboard import exact_sflop

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "build" / "dashboard"
ELLIPSIS = "\u2026"


def start_chromium() -> webdriver.Chrome:
    """Headless Chromium under Debian's chromedriver; a machine without them
    fails the test with how to install them (the dashboard is never left untested)."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(f"{' and '.join(missing)} missing: the dashboard's test needs Debian's "
                    "chromium and chromium-driver; install them with "
                    "`tools/install-system-deps.sh test` (as root) or `make test`")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1100,1300"):
        options.add_argument(argument)
    return webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))


@pytest.fixture
def chromium():
    """Headless Chromium, quit whatever the test does."""
    driver = start_chromium()
    try:
        driver.set_page_load_timeout(60)
        yield driver
    finally:
        driver.quit()


def test_without_chromium_the_test_fails_saying_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", tmp_path / "chromium")
    with pytest.raises(pytest.fail.Exception, match="tools/install-system-deps.sh test"):
        start_chromium()


def attest(client: httpx.Client, device, device_id: bytes) -> None:
    nonce = client.post("/v1/nonces", json={"device_id": device_id.hex()})
    assert nonce.status_code == 201, nonce.text
    answer = client.post("/v1/attestations", content=device.attest(bytes.fromhex(
        nonce.json()["nonce"])), headers={"Content-Type": "application/octet-stream"})
    assert answer.status_code == 200, answer.text


def cells(driver, heading: str) -> list[list[str]]:
    """The data rows of the table under an h2, as the browser renders their text."""
    table = driver.find_element(By.XPATH, f"//h2[.='{heading}']/following-sibling::table[1]")
    return [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
            for row in table.find_elements(By.TAG_NAME, "tr")[1:]]


def shoot(driver, name: str) -> None:
    """A screenshot of the viewport, in 128 colours (text and flat plots need no
    more) so the copies kept in docs/ stay small."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB")
    image.quantize(128).save(SCREENSHOTS / name, optimize=True)
    if os.environ.get("OPENHEG_WRITE_SCREENSHOTS") == "1":
        shutil.copyfile(SCREENSHOTS / name, ROOT / "docs" / "img" / name)


def test_a_person_reads_the_dashboard_in_chromium_as_the_ledger_holds_it(fleet, tmp_path,
                                                                          chromium):
    folder, ((first, first_id), (second, second_id), _), world = fleet
    (tmp_path / "verifier.toml").write_text(verifier_toml(
        world, folder / "endorsements.json", anchored=True))
    issuer = Authority(world.authority.directory).key("issuer")
    with running_verifier(tmp_path) as url, httpx.Client(base_url=url, timeout=30) as client:
        # Two standard-class trainings compute on the chips and report; a
        # Frontier workload is planned with no license yet.
        for name, device, device_id, steps in (("train-a", first, first_id, 30_000),
                                               ("train-b", second, second_id, 10_000)):
            license_ = issue_license(issuer, device_id=device_id, workload=name,
                                     sequence=device.info().license_sequence + 1,
                                     allocation_msflop=10**15)
            assert client.post("/v1/admin/workloads", headers=AUTH, json={
                "name": name, "workload_id": license_.workload_id.hex(),
                "planned_msflop": 10**15, "license_class": "STANDARD"}).status_code == 201
            registered = client.post("/v1/admin/licenses", headers=AUTH,
                                     json={"license": license_.to_bytes().hex()})
            assert registered.status_code == 201, registered.text
            device.install_license(license_)
            attest(client, device, device_id)
            device.transport.chip.run("FP32", steps, 16)
            attest(client, device, device_id)
        assert client.post("/v1/admin/workloads", headers=AUTH, json={
            "name": "frontier-plan", "workload_id": "f0" * 16, "planned_msflop": 10**18,
            "license_class": "FRONTIER"}).status_code == 201
        # train-b's license is withdrawn; its chip computes on and reports.
        assert client.post("/v1/admin/revocations", headers=AUTH, json={
            "license_id": license_.license_id.hex(), "reason": "withdrawn"}).status_code == 200
        second.transport.chip.run("FP32", 1_000, 16)
        attest(client, second, second_id)

        ledger = Ledger(tmp_path / "ledger.sqlite")
        deadline_s = VerifierConfig.load(tmp_path, tmp_path / "verifier.toml").silence_deadline_s
        usage = {w.name: ledger.usage(w.workload_id) for w in ledger.workloads()}
        classes: dict[str, list[int]] = {}
        for w in ledger.workloads():
            entry = classes.setdefault(w.license_class, [0, 0])
            entry[0] += 1
            entry[1] += sum(u.consumed_msflop for u in usage[w.name])
        assert classes["STANDARD"][1] > 0  # the chips' compute reached the ledger

        # The public tier: per-class totals, no identities.
        chromium.get(f"{url}/dashboard")
        assert chromium.title == "Fleet overview"
        assert cells(chromium, "Compute per license class") == [
            [name, str(count), exact_sflop(total)]
            for name, (count, total) in sorted(classes.items())]
        public = chromium.page_source
        for device_id in (first_id, second_id):
            assert device_id.hex()[:12] not in public
        assert "Sign in with a regulator's" in chromium.find_element(By.TAG_NAME, "body").text

        # The regulator signs in through the form.
        chromium.find_element(By.LINK_TEXT, "sign in").click()
        chromium.find_element(By.NAME, "token").send_keys(TOKEN)
        chromium.find_element(By.TAG_NAME, "button").click()
        WebDriverWait(chromium, 30).until(expected_conditions.presence_of_element_located(
            (By.XPATH, "//h2[.='Workloads']")))
        assert chromium.current_url == f"{url}/dashboard"
        assert cells(chromium, "Workloads") and [row[:5] for row in cells(
            chromium, "Workloads")] == [
            [w.name, w.license_class, exact_sflop(sum(u.consumed_msflop for u in usage[w.name])),
             exact_sflop(sum(u.allocation_msflop for u in usage[w.name])),
             str(len({u.device_id for u in usage[w.name]}))] for w in ledger.workloads()]
        expected_devices = []
        for row in ledger.devices():
            reports = ledger.attestations(row.device_id)
            newest = max(reports, key=lambda a: a.report_counter)
            expected_devices.append([row.device_id[:16] + ELLIPSIS, str(len(reports)),
                                     str(newest.gate_state), exact_sflop(newest.consumed_msflop)])
        assert [row[:4] for row in cells(chromium, "Devices")] == expected_devices
        # Each chip's series: here, that no event log was read (the service takes
        # attestations only), so its chain is unchecked.
        anomalies = [[a.device_id[:16] + ELLIPSIS, a.kind, a.detail]
                     for row in ledger.devices()
                     for a in ledger.series(row.device_id, deadline_s=deadline_s).anomalies]
        assert [kind for _, kind, _ in anomalies] == ["log-unverified"] * 2
        # ... and the ledger's usage rule: the revoked license's use (regression: the
        # overview left it out while the workload page and the EAR named it).
        misuse = [[a.device_id[:16] + ELLIPSIS, a.kind, a.detail]
                  for w in ledger.workloads() for a in usage_anomalies(usage[w.name])]
        assert [kind for _, kind, _ in misuse] == ["revoked-license-used"]
        assert cells(chromium, "Anomalies") == anomalies + misuse
        # At 1100 px every table, the thresholds' included, fits the window
        # (regression: the thresholds table ran past its right edge).
        width, window = chromium.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= window, (width, window)
        shoot(chromium, "dashboard-overview.png")

        # train-b against F(t) and H(t), drawn as inline SVG, with the use of its
        # revoked license named as the ledger's usage shows it.
        chromium.find_element(By.LINK_TEXT, "train-b").click()
        plot = WebDriverWait(chromium, 30).until(expected_conditions.visibility_of_element_located(
            (By.TAG_NAME, "svg")))
        assert chromium.title == "Workload train-b"
        assert plot.size["width"] > 300 and plot.size["height"] > 200
        legend = plot.find_element(By.CSS_SELECTOR, "g[id^='legend']").get_attribute("innerHTML")
        assert "Frontier threshold F(t)" in legend and "Horizon threshold H(t)" in legend
        second_short = second_id.hex()[:16] + ELLIPSIS
        revoked = [[a.device_id[:16] + ELLIPSIS, a.kind, a.detail]
                   for a in usage_anomalies(usage["train-b"])]
        assert [kind for _, kind, _ in revoked] == ["revoked-license-used"]
        assert cells(chromium, "Anomalies") == [
            row for row in anomalies if row[0] == second_short] + revoked
        shoot(chromium, "dashboard-workload.png")
