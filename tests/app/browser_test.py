#!/usr/bin/python3
"""Seed 003's test plan for hush-denoise-app, every item, in headless Chromium against the real
server on loopback. Each step saves a screenshot (OUT/NN-step.png); a failing step names itself
and the run goes on to the next, so one run shows everything that is wrong.

    /usr/bin/python3 tests/app/browser_test.py --bin build/bin --out build/app-test
"""
import argparse
import json
import os
import re
import signal
import sys
import time
import traceback
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server as app  # noqa: E402

PHOTO = "/usr/share/doc/opencv-doc/examples/data/baboon.jpg"  # opencv-doc, installed by scripts/setup


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                "--disable-gpu"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


class Plan:
    def __init__(self, driver, out, url):
        self.driver, self.out, self.url, self.results = driver, out, url, []

    def step(self, name, action):
        number = len(self.results) + 1
        start = time.time()
        try:
            detail = action() or ""
            outcome = "passed"
        except Exception as e:  # a failing step names itself; the others still run
            detail = f"{type(e).__name__}: {e}"
            outcome = "FAILED"
            traceback.print_exc()
        shot = os.path.join(self.out, f"{number:02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}.png")
        try:
            self.driver.save_screenshot(shot)
        except Exception:
            pass
        self.results.append((name, outcome, detail))
        print(f"step {number}: {name}: {outcome} ({time.time() - start:.1f} s) {detail}", flush=True)

    # ---- what a user does on the page ----
    def open_page(self, new_tab=False):
        """Opens the app (in a new tab: another page of the same browser); returns the tab it left."""
        left = self.driver.current_window_handle
        if new_tab:
            self.driver.switch_to.new_window("tab")
        self.driver.get(self.url)
        WebDriverWait(self.driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#model option"))
        return left

    def status(self):
        """(the status line, the notice: an error or refusal, "" when none is shown)."""
        notice = self.driver.find_element(By.ID, "notice")
        return self.driver.find_element(By.ID, "status").text, notice.text if notice.is_displayed() else ""

    def wait_status(self, pattern, timeout=60):
        """Waits until the status line or the notice matches `pattern`; returns both."""
        WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(lambda d: re.search(pattern, " | ".join(self.status())))
        return self.status()

    def choose(self, field, path):
        element = self.driver.find_element(By.ID, field)
        element.clear()
        if path:
            element.send_keys(os.path.abspath(path))

    def press(self, button):
        self.driver.find_element(By.ID, button).click()

    def image_size(self, element, timeout=60):
        """The image's size once the browser has decoded it (a 12-megapixel PNG takes a moment)."""
        script = f"const i = document.getElementById('{element}'); return i.complete ? [i.naturalWidth, i.naturalHeight] : [0, 0];"
        WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(lambda d: d.execute_script(script)[0] > 0)
        return self.driver.execute_script(script)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="folder with hush-denoise-app and hush-noise")
    parser.add_argument("--out", required=True, help="folder for the screenshots and the images made")
    a = parser.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for old in os.listdir(a.out):
        if old.endswith(".png") and old[:2].isdigit():
            os.remove(os.path.join(a.out, old))
    files = os.path.join(a.out, "files")
    work = os.path.join(a.out, "work")
    os.makedirs(files, exist_ok=True)
    path = lambda name: os.path.join(files, name)  # noqa: E731

    # The photos: baboon with Gaussian noise (its clean original beside it), a 64 x 48 one, a
    # 12-megapixel one (4000 x 3000), and a text file posing as a photo.
    noisy = app.noised(a.bin, PHOTO, path("baboon-noisy.png"))
    app.write_ppm(path("small.ppm"), 64, 48)
    small = app.noised(a.bin, path("small.ppm"), path("small-noisy.png"))
    app.write_ppm(path("large.ppm"), 4000, 3000)
    large = app.noised(a.bin, path("large.ppm"), path("large-noisy.png"))
    with open(path("notes.png"), "w") as f:
        f.write("not a picture, whatever its name says\n")

    server = app.Server(a.bin, work, os.path.join(a.out, "server.log"))
    driver = browser()
    plan = Plan(driver, a.out, server.url)
    plan.open_page()

    def no_image():
        plan.press("denoise")
        _, notice = plan.status()
        assert "No photo loaded" in notice, notice
        return repr(notice)

    def invalid_format():
        plan.choose("photo", path("notes.png"))
        plan.press("denoise")
        _, notice = plan.wait_status("not an image")
        assert "notes.png: not an image hush reads" in notice, notice
        return repr(notice)

    def load_noisy():
        plan.choose("photo", noisy)
        plan.wait_status("baboon-noisy.png loaded")
        assert plan.image_size("noisy") == [512, 512], plan.image_size("noisy")
        return "shown 512 x 512"

    def denoise_with_reference():
        plan.choose("reference", PHOTO)
        plan.press("denoise")
        text, notice = plan.wait_status("denoised in|could not", 120)
        assert not notice, (text, notice)
        assert driver.find_element(By.ID, "metrics").is_displayed()
        cell = lambda id: float(driver.find_element(By.ID, id).text)  # noqa: E731
        noisy_psnr, denoised_psnr = cell("psnr-noisy"), cell("psnr-denoised")
        noisy_ssim, denoised_ssim = cell("ssim-noisy"), cell("ssim-denoised")
        assert denoised_psnr > noisy_psnr + 2 and denoised_ssim > noisy_ssim, (noisy_psnr, denoised_psnr)
        link = driver.find_element(By.ID, "download")
        assert link.is_displayed() and link.get_attribute("download") == "baboon-noisy-denoised.png"
        with urllib.request.urlopen(link.get_attribute("href")) as r:
            assert app.png_size(r.read(32)) == (512, 512)
        return f"PSNR {noisy_psnr:.2f} -> {denoised_psnr:.2f} dB, SSIM {noisy_ssim:.4f} -> {denoised_ssim:.4f}"

    def drop_a_photo():
        # A file dropped on the drop zone: the page's drop handler gets a real File, as from the desktop.
        driver.execute_script("""
            fetch(document.getElementById('noisy').src).then((r) => r.blob()).then((blob) => {
              const dt = new DataTransfer();
              dt.items.add(new File([blob], 'dropped.png', { type: 'image/png' }));
              document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true }));
            });""")
        text, notice = plan.wait_status("dropped.png loaded")
        assert not notice, notice
        name = driver.execute_script("return document.getElementById('photo').files[0].name;")
        assert name == "dropped.png", name
        return repr(text)

    def split_and_zoom():
        plan.image_size("noisy")  # the job's input.png, decoded, before its width is read
        driver.execute_script("const s = document.getElementById('split'); s.value = 25; s.dispatchEvent(new Event('input'));")
        clip = driver.find_element(By.ID, "denoised").value_of_css_property("clip-path")
        assert "25%" in clip, clip
        zoom = driver.find_element(By.ID, "zoom")
        zoom.find_element(By.CSS_SELECTOR, "option[value='2']").click()
        width = driver.find_element(By.ID, "stage").size["width"]
        assert width == 1024, width
        return f"split at 25% ({clip}), zoom 200%: {width} px wide"

    def low_resolution():
        zoom = driver.find_element(By.ID, "zoom")
        zoom.find_element(By.CSS_SELECTOR, "option[value='fit']").click()
        plan.choose("reference", None)
        plan.choose("photo", small)
        plan.press("denoise")
        text, notice = plan.wait_status("denoised in|could not", 60)
        assert not notice and "64 × 48" in text, text
        assert plan.image_size("denoised") == [64, 48], plan.image_size("denoised")
        return repr(text)

    def high_resolution():
        plan.choose("photo", large)
        plan.press("denoise")
        seen = set()
        deadline = time.time() + 300
        while time.time() < deadline:
            text, notice = plan.status()
            found = re.search(r"(\d+) of (\d+) tiles", text)
            if found:
                seen.add((int(found.group(1)), int(found.group(2))))
            if "denoised in" in text or notice:
                break
            time.sleep(0.05)
        assert not notice and "denoised in" in text, text
        total = max(t for _, t in seen)
        partial = sorted(d for d, t in seen if 0 < d < t)
        assert total > 1 and partial, f"no progress seen between the first and last tile: {sorted(seen)}"
        assert plan.image_size("denoised") == [4000, 3000], plan.image_size("denoised")
        _, peak = server.memory_kb()
        # One 512-pixel tile's activations, and the photo itself a few times over (input, output,
        # their 8-bit copies and PNGs): about 1 GB; 2 GB would mean something grows with the photo.
        assert peak < 2_000_000, f"server peak memory {peak / 1e6:.2f} GB"
        return f"{repr(text)}; progress seen at tiles {partial[:3]}... of {total}; server peak {peak / 1e6:.2f} GB"

    def another_upload_while_busy():
        plan.choose("photo", large)
        plan.press("denoise")
        plan.wait_status("tiles|waits", 60)
        # The same page: a new photo is refused with a message while its photo is denoised.
        plan.choose("photo", small)
        _, notice = plan.status()
        assert "Still denoising large-noisy.png" in notice, notice
        plan.press("denoise")
        _, notice = plan.status()
        assert "Still denoising large-noisy.png" in notice, notice
        # Another page: its photo waits its turn and gets its own result, not the other page's.
        first = plan.open_page(new_tab=True)
        plan.choose("photo", small)
        plan.press("denoise")
        queued, _ = plan.wait_status("waits: 1 photo ahead|denoised in", 60)
        text, notice = plan.wait_status("denoised in|could not", 300)
        assert not notice and plan.image_size("denoised") == [64, 48], (text, plan.image_size("denoised"))
        second_tab = f"second page: {queued!r} then {text!r}"
        driver.close()
        driver.switch_to.window(first)
        text, notice = plan.wait_status("denoised in|could not", 300)
        assert not notice and plan.image_size("denoised") == [4000, 3000], (text, plan.image_size("denoised"))
        return f"{second_tab}; first page: {text!r}"

    def close_page_mid_denoise():
        first = plan.open_page(new_tab=True)
        plan.choose("photo", large)
        plan.press("denoise")
        plan.wait_status(r"[1-9]\d* of \d+ tiles", 120)
        job = driver.execute_script("return job.id;")
        driver.close()  # pagehide: the page lets its job go
        driver.switch_to.window(first)
        s = server.wait_for(job, ("cancelled", "done"), 60)
        assert s["state"] == "cancelled", s
        leftovers = [f for f in os.listdir(work) if f.startswith(".") or f == job]
        assert not leftovers, f"files left in the work folder: {leftovers}"
        # The server goes on serving others.
        plan.choose("photo", small)
        plan.press("denoise")
        text, notice = plan.wait_status("denoised in|could not", 60)
        assert not notice, (text, notice)
        return f"job {job} cancelled after tile {s['tiles_done']} of {s['tiles_total']}; no file left; next photo: {text!r}"

    def stop_server_mid_denoise():
        stop_work = os.path.join(a.out, "work-stopped")
        other = app.Server(a.bin, stop_work, os.path.join(a.out, "server-stopped.log"))
        code, body = other.submit({"image": large})
        assert code == 202, (code, body)
        other.wait_for(body["id"], ("running",), 60)
        deadline = time.time() + 60
        while other.status(body["id"])["tiles_done"] < 1 and time.time() < deadline:
            time.sleep(0.02)
        exit_code = other.stop(signal.SIGTERM, 60)
        assert exit_code == 0, f"exit code {exit_code}: {other.output()}"
        assert "stopped" in other.output(), other.output()
        jobs = os.listdir(stop_work)
        assert not jobs, f"the stopped server left {jobs} in {stop_work}"
        # The page's server is untouched.
        plan.press("denoise")
        text, notice = plan.wait_status("denoised in|could not", 60)
        assert not notice, (text, notice)
        return f"SIGTERM during job {body['id']}: exit 0, nothing in its work folder"

    plan.step("Denoise with no image loaded gives a clear message", no_image)
    plan.step("An invalid file format gives a clear message", invalid_format)
    plan.step("Load a noisy image", load_noisy)
    plan.step("Press Denoise and get the clean image, with PSNR and SSIM against the original", denoise_with_reference)
    plan.step("Split view and zoom", split_and_zoom)
    plan.step("Drop a photo on the page", drop_a_photo)
    plan.step("A low-resolution image (64 x 48)", low_resolution)
    plan.step("A 12-megapixel image, tiled, with progress and bounded memory", high_resolution)
    plan.step("Another upload while one is being denoised: refused on the page, queued from another", another_upload_while_busy)
    plan.step("Closing the page mid-denoise: the job stops, no file is left, others are served", close_page_mid_denoise)
    plan.step("Stopping the server mid-denoise leaves no file behind", stop_server_mid_denoise)

    driver.quit()
    code = server.stop()
    failed = [name for name, outcome, _ in plan.results if outcome != "passed"]
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump([{"step": n, "outcome": o, "detail": d} for n, o, d in plan.results], f, indent=1)
    print(f"{len(plan.results) - len(failed)} of {len(plan.results)} steps passed; screenshots in {a.out}")
    if code != 0:
        print(f"the server exited with {code}:\n{server.output()}")
        return 1
    for name in failed:
        print(f"FAILED: {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
