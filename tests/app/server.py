"""hush-denoise-app for the tests: a server on a free loopback port, and the images they upload.

The images are made without NumPy or OpenCV (the tests need only Debian's python3 and
python3-selenium): binary PPMs written here, noised into PNGs by hush-noise, so every upload is a
real, noisy, encoded photo.
"""
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid


class Server:
    """hush-denoise-app --port 0, its address read from its first lines."""

    def __init__(self, bin_dir, work, log, *extra):
        """Serves with `work` as its work folder (None: its own temporary one), its output in `log`."""
        args = [os.path.join(bin_dir, "hush-denoise-app"), "--port", "0"]
        if work:
            args += ["--work", work]
        self.log_path = log
        self.log = open(self.log_path, "w+")
        self.process = subprocess.Popen(args + list(extra), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        self.url = None
        while time.time() < deadline and self.url is None:
            if self.process.poll() is not None:
                raise RuntimeError(f"hush-denoise-app exited ({self.process.returncode}): {self.output()}")
            found = re.search(r"serving (http://127\.0\.0\.1:\d+/)", self.output())
            self.url = found.group(1) if found else None
            time.sleep(0.05)
        if self.url is None:
            raise RuntimeError(f"hush-denoise-app printed no address in 30 s: {self.output()}")

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def memory_kb(self):
        """(resident now, peak resident) in kB, from /proc."""
        with open(f"/proc/{self.process.pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signals the server; returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)

    # ---- the JSON API ----
    def get(self, path):
        try:
            with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=60) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def status(self, job):
        code, body = self.get(f"api/jobs/{job}")
        return json.loads(body)

    def submit(self, files, wait=False, model=None):
        """POST /api/jobs with files {field: path}; returns (HTTP status, JSON)."""
        boundary = uuid.uuid4().hex
        parts = []
        for field, path in files.items():
            with open(path, "rb") as f:
                data = f.read()
            head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
                    f'filename="{os.path.basename(path)}"\r\nContent-Type: application/octet-stream\r\n\r\n')
            parts.append(head.encode() + data + b"\r\n")
        if model:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\n{model}\r\n'.encode())
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        request = urllib.request.Request(self.url + "api/jobs" + ("?wait=1" if wait else ""), data=body, method="POST",
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        try:
            with urllib.request.urlopen(request, timeout=600) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def wait_for(self, job, states, timeout=300):
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.status(job)
            if s.get("state") in states:
                return s
            time.sleep(0.05)
        raise AssertionError(f"job {job} not {states} after {timeout} s: {s}")


def write_ppm(path, width, height, level=None):
    """A binary PPM: a flat grey at `level`, or (None) smooth colour gradients with some edges."""
    with open(path, "wb") as f:
        f.write(f"P6\n{width} {height}\n255\n".encode())
        if level is not None:
            f.write(bytes([level]) * (3 * width * height))
            return
        rows = {}  # a row depends on its grey level and band only: each is built once
        for y in range(height):
            g, yband = 40 + 170 * y // max(1, height - 1), y // max(1, height // 6)
            if (g, yband) not in rows:
                row = bytearray(3 * width)
                for x in range(width):
                    r = 30 + 190 * x // max(1, width - 1)
                    edge = 60 if (x // max(1, width // 8) + yband) % 2 else 0
                    row[3 * x:3 * x + 3] = bytes((r, g, (r + g) // 2 - 30 + edge))
                rows[(g, yband)] = bytes(row)
            f.write(rows[(g, yband)])


def noised(bin_dir, source, out, spec="gaussian(sigma=0.1)", seed=1):
    """`source` with hush-noise's `spec`, as a PNG at `out`."""
    subprocess.run([os.path.join(bin_dir, "hush-noise"), "--spec", spec, "--seed", str(seed), source, out],
                   check=True, stdout=subprocess.DEVNULL)
    return out


def png_size(path_or_bytes):
    """(width, height) from a PNG's header."""
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else open(path_or_bytes, "rb").read(32)
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
