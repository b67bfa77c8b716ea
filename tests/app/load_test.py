#!/usr/bin/python3
"""hush-denoise-app under load and under hostile requests, through its JSON API:
  1. requests that must be refused: paths out of the app's routes (../, encoded or not), an
     upload above the byte limit (sent, announced with Expect: 100-continue, or chunked), a
     decompression bomb (a 33-byte PNG header claiming 10^10 pixels), an unknown model, an
     unknown job, a POST from another site's page; each with its status;
  2. 50 small denoise requests at once (50 threads, ?wait=1), bounded in time: every one answered,
     each with its own photo (its own size and grey level; nothing lost, nothing mixed up);
  3. 500 requests more (four pages, each sending its next photo when its last is back): the
     server's resident memory after them against after the first 100 (it must not grow with the
     requests: finished jobs beyond --keep are let go).
Prints the figures; exits non-zero naming what failed.

    /usr/bin/python3 tests/app/load_test.py --bin build/bin --out build/app-load
"""
import argparse
import concurrent.futures
import os
import re
import socket
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server as app  # noqa: E402


def mean_grey(png_bytes, bin_dir, out):
    """The mean of a PNG's pixels: hush-noise with no noise turns it into a PPM, which Python reads
    as it is (its standard library has no PNG decoder)."""
    src, dst = out + ".png", out + ".ppm"
    with open(src, "wb") as f:
        f.write(png_bytes)
    app.noised(bin_dir, src, dst, spec="gaussian(sigma=0)")
    with open(dst, "rb") as f:
        data = f.read()
    header_end = 0  # P6\n<w> <h>\n255\n, then the pixels
    for _ in range(3):
        header_end = data.index(b"\n", header_end) + 1
    pixels = data[header_end:]
    return sum(pixels) / len(pixels)


def server_work(server):
    """The server's temporary work folder, from its first lines."""
    return re.search(r"work folder (\S+);", server.output()).group(1)


def raw_status(server, request):
    """The status of the reply to raw request bytes (what urllib will not send)."""
    host, port = re.match(r"http://([^:]+):(\d+)/", server.url).groups()
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(request)
        reply = s.recv(4096).decode("latin-1")
    found = re.match(r"HTTP/1\.1 (\d+)", reply)
    return int(found.group(1)) if found else reply


def hostile_requests(server, out, photo):
    failures = []
    for path in ("../../../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd", "api/jobs/../../etc/passwd",
                 "api/jobs/0123456789abcdef0123456789abcdef/../../../etc/passwd",
                 "api/jobs/0123456789abcdef0123456789abcdef/input.png", "api/jobs/0123456789ABCDEF0123456789ABCDEF", "work/", "tmp/"):
        code, body = server.get(path)
        if code != 404 or b"root:" in body:
            failures.append(f"GET /{path}: HTTP {code}, {body[:80]!r}")
    big = os.path.join(out, "big.bin")
    with open(big, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + bytes(5 << 20))
    bomb = os.path.join(out, "bomb.png")  # a PNG header: 100,000 x 100,000 pixels, then nothing
    with open(bomb, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + (100000).to_bytes(4, "big") * 2 + b"\x08\x02\0\0\0")
    for what, files, model, status, message in (
            ("an upload above --max-upload-mb 4", {"image": big}, None, 413, "larger than this server's limit of 4 MB"),
            ("a decompression bomb", {"image": bomb}, None, 413, "100000 x 100000 pixels, above this server's limit"),
            ("an unknown model", {"image": photo}, "no-such-model", 400, "no model named 'no-such-model'"),
            ("no photo", {}, "blind", 400, "no photo in the request")):
        try:
            code, body = server.submit(files, model=model)
        except Exception as e:  # the server must answer, not drop the connection
            code, body = None, {"error": repr(e)}
        if code != status or message not in body.get("error", ""):
            failures.append(f"{what}: HTTP {code}, {body} (expected {status} and '{message}')")
    for what, request, status in (
            ("a chunked upload (no Content-Length: httplib would read it whole)",
             b"POST /api/jobs HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 411),
            ("a 1 GB upload announced with Expect: 100-continue, refused before its body",
             b"POST /api/jobs HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000000\r\nExpect: 100-continue\r\n"
             b"Content-Type: multipart/form-data; boundary=x\r\n\r\n", 413),
            ("a Content-Length of 30 digits with Expect: 100-continue",
             b"POST /api/jobs HTTP/1.1\r\nHost: h\r\nContent-Length: 999999999999999999999999999999\r\n"
             b"Expect: 100-continue\r\n\r\n", 413),
            ("a POST from another site's page",
             b"POST /api/jobs HTTP/1.1\r\nHost: h\r\nOrigin: http://elsewhere.example\r\nContent-Length: 0\r\n\r\n", 403)):
        code = raw_status(server, request)
        if code != status:
            failures.append(f"{what}: HTTP {code}, expected {status}")
    print(f"hostile requests: {'all refused as they should be' if not failures else f'{len(failures)} not refused'}")
    return failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--parallel", type=int, default=50)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--time-limit", type=float, default=120, help="seconds the parallel requests may take")
    a = parser.parse_args()
    os.makedirs(a.out, exist_ok=True)
    failures = []

    # Photo i: a flat grey (level 40 + 3i) of (48 + i) x 32 pixels, so its answer is recognisable.
    photos = []
    for i in range(a.parallel):
        ppm = os.path.join(a.out, f"flat{i:02d}.ppm")
        app.write_ppm(ppm, 48 + i, 32, level=40 + 3 * i)
        photos.append(app.noised(a.bin, ppm, os.path.join(a.out, f"flat{i:02d}.png"), spec="gaussian(sigma=0.02)", seed=i))

    server = app.Server(a.bin, None, os.path.join(a.out, "server.log"), "--queue", str(a.parallel),
                        "--keep", str(max(64, a.parallel)),
                        "--max-upload-mb", "4")
    try:
        failures += hostile_requests(server, a.out, photos[0])
        def one(i):
            start = time.time()
            code, body = server.submit({"image": photos[i]}, wait=True)
            return i, code, body, time.time() - start

        start = time.time()
        with concurrent.futures.ThreadPoolExecutor(a.parallel) as pool:
            answers = list(pool.map(one, range(a.parallel)))
        wall = time.time() - start
        slowest = max(t for *_, t in answers)
        print(f"{a.parallel} requests at once: all answered in {wall:.2f} s (slowest {slowest:.2f} s)")
        if wall > a.time_limit:
            failures.append(f"{a.parallel} parallel requests took {wall:.1f} s, above {a.time_limit} s")
        for i, code, body, _ in answers:
            if code != 200 or body.get("state") != "done":
                failures.append(f"request {i}: HTTP {code}, {body}")
                continue
            if (body["width"], body["height"]) != (48 + i, 32) or body["image"] != os.path.basename(photos[i]):
                failures.append(f"request {i} got another photo's answer: {body}")
                continue
            with urllib.request.urlopen(server.url + body["denoised"].lstrip("/")) as r:
                png = r.read()
            if app.png_size(png) != (48 + i, 32):
                failures.append(f"request {i}: its denoised photo is {app.png_size(png)}")
            grey = mean_grey(png, a.bin, os.path.join(a.out, f"answer{i:02d}"))
            if abs(grey - (40 + 3 * i)) > 3:
                failures.append(f"request {i}: its denoised photo's mean grey is {grey:.1f}, not about {40 + 3 * i}")
        ids = {body.get("id") for _, _, body, _ in answers}
        if len(ids) != a.parallel:
            failures.append(f"{a.parallel} requests made {len(ids)} distinct jobs")

        rss_50, _ = server.memory_kb()
        start = time.time()

        def sequential(k):  # four pages, each sending its next photo when the last is back
            code, body = server.submit({"image": photos[k % a.parallel]}, wait=True)
            return None if code == 200 and body.get("state") == "done" else f"request {k}: HTTP {code}, {body}"

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            failures += [f for f in pool.map(sequential, range(50)) if f]
            rss_100, _ = server.memory_kb()  # after 100 requests in all
            failures += [f for f in pool.map(sequential, range(50, a.requests)) if f]
        seconds = time.time() - start
        rss_end, peak = server.memory_kb()
        kept = len([d for d in os.listdir(server_work(server)) if len(d) == 32])
        print(f"{a.requests} more requests, four pages sending one after another, in {seconds:.1f} s ({a.requests / seconds:.0f} per second): "
              f"resident memory {rss_50 / 1024:.1f} MB after the first {a.parallel}, {rss_100 / 1024:.1f} MB after "
              f"{a.parallel + 50}, {rss_end / 1024:.1f} MB after {a.parallel + a.requests} (peak {peak / 1024:.1f} MB); "
              f"{kept} finished jobs' folders kept (--keep 64)")
        # Memory after 500 more requests is what it was after 50 more, within allocator noise.
        if rss_end > rss_100 + 20 * 1024:
            failures.append(f"resident memory grew from {rss_100 / 1024:.1f} to {rss_end / 1024:.1f} MB over "
                            f"{a.requests - 50} requests")
        if kept > 64:
            failures.append(f"{kept} job folders kept, above --keep 64")
    finally:
        code = server.stop()
    if code != 0:
        failures.append(f"the server exited with {code}: {server.output()[-2000:]}")
    for f in failures:
        print("FAILED:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
