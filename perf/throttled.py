#!/usr/bin/env python3
"""One big blob through a link that caps each connection (ferry-testkit proxy, 10 MB/s a connection).

Ferry --connections 1, Ferry --connections 8 and `aria2c -x8 -s8` fetch the same 256 MiB blob in one run.
Targets (DESIGN §6, issue 3): Ferry ×8 ≥ 6× Ferry ×1, and ≥ 0.9× aria2c.
Then a Ferry download is killed (SIGKILL) at about half way and run again: the bytes fetched again must be at most
connections × chunk size beyond what was missing.

usage: perf/throttled.py BIN_DIR [--size BYTES] [--rate BYTES_PER_SEC] [--json FILE]
"""
import argparse
import datetime
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class Proxy:
    def __init__(self, bins, upstream, rate):
        self.proc = subprocess.Popen([bins.testkit, "proxy", "--listen", "127.0.0.1:0", "--upstream", upstream,
                                      "--fault", f"throttle={rate},path=/blobs/"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.address = self.proc.stdout.readline().strip().split(" ", 1)[1]

    def control(self, what, body=None):
        req = urllib.request.Request(f"http://{self.address}/__testkit/{what}", data=body, method="POST" if body is not None else "GET")
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read() or b"null")

    def blob_bytes(self):
        return self.control("stats").get("byClass", {}).get("blobs", {}).get("responseBodyBytes", 0)

    def reset(self, rate):
        self.control("reset", b"")
        self.control("faults", json.dumps([{"kind": "throttle", "value": rate, "path": "/blobs/"}]).encode())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bin_dir")
    p.add_argument("--size", type=int, default=256 << 20)
    p.add_argument("--rate", type=int, default=10_000_000)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--chunk-size", type=int, default=16 << 20)
    p.add_argument("--json")
    a = p.parse_args()
    bins = harness.Bins(a.bin_dir)
    work = harness.workdir()
    image_dir = os.path.join(work, f"image-{a.size}-1")
    image = harness.make_image(bins, image_dir, a.size, 1)
    layer = image["manifests"][0]["layers"][0]["blob"]
    registry = harness.Registry(bins, work)
    proxy = None
    try:
        harness.seed(bins, image_dir, f"http://{registry.address}/perf/one:1")
        proxy = Proxy(bins, registry.address, a.rate)
        ref = f"docker://{proxy.address}/perf/one:1"
        dest = os.path.join(work, "dest-throttled")
        chunk = f"--chunk-size={a.chunk_size}"
        t1, _, rc1 = harness.timed([bins.ferry, "copy", "-q", "--connections", "1", chunk, ref, f"oci:{harness.fresh_dir(dest)}"])
        tn, rss, rcn = harness.timed([bins.ferry, "copy", "-q", "--connections", str(a.connections), chunk, ref, f"oci:{harness.fresh_dir(dest)}"])
        harness.fresh_dir(dest)
        os.makedirs(dest)
        url = f"http://{proxy.address}/v2/perf/one/blobs/{layer['digest']}"
        ta, _, rca = harness.timed(["aria2c", "-q", f"-x{a.connections}", f"-s{a.connections}", "-k1M", "--allow-overwrite=true",
                                    "-d", dest, "-o", "blob", url])
        if rc1 or rcn or rca:
            sys.exit("perf: a download failed")

        # Kill at about half way, then resume.
        proxy.reset(a.rate)
        harness.fresh_dir(dest)
        proc = subprocess.Popen([bins.ferry, "copy", "-q", "--connections", str(a.connections), chunk, ref, f"oci:{dest}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while proxy.blob_bytes() < layer["size"] // 2 and proc.poll() is None:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        before_kill = proxy.blob_bytes()
        proxy.reset(a.rate)
        tr, _, rcr = harness.timed([bins.ferry, "copy", "-q", "--connections", str(a.connections), chunk, ref, f"oci:{dest}"])
        refetched = proxy.blob_bytes()
        if rcr:
            sys.exit("perf: the resumed download failed")
        ok_blob = os.path.exists(os.path.join(dest, "blobs", "sha256", layer["digest"].split(":")[1]))
        harness.fresh_dir(dest)
    finally:
        if proxy:
            proxy.stop()
        registry.stop()

    # Bytes a perfect resume would fetch: the blob minus whole chunks finished before the kill.
    allowed_extra = a.connections * a.chunk_size
    missing_upper = layer["size"] - max(0, before_kill - allowed_extra)
    speedup = t1 / tn
    vs_aria = ta / tn
    print(f"\none {layer['size'] / 2**20:.0f} MiB blob through {a.rate / 1e6:.0f} MB/s per connection")
    print(f"  {'run':<28}{'seconds':>9}{'MB/s':>9}")
    for label, t in ((f"ferry --connections 1", t1), (f"ferry --connections {a.connections}", tn), (f"aria2c -x{a.connections} -s{a.connections}", ta)):
        print(f"  {label:<28}{t:>9.2f}{harness.mbps(layer['size'], t):>9.1f}")
    print(f"  ferry ×{a.connections} / ×1: {speedup:.2f}× (target ≥ 6×)   ferry / aria2c: {vs_aria:.2f}× (target ≥ 0.9×)   "
          f"peak RSS {rss / 1e6:.0f} MB")
    print(f"  resume after SIGKILL at {before_kill / 2**20:.0f} MiB: fetched {refetched / 2**20:.1f} MiB again in {tr:.2f}s "
          f"(blob {layer['size'] / 2**20:.0f} MiB; at most {a.connections} × {a.chunk_size >> 20} MiB beyond what was missing: "
          f"{'yes' if refetched <= missing_upper else 'NO'}), blob verified: {ok_blob}")
    out = {
        "case": "throttled", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(), "machine": harness.machine(),
        "bytes": layer["size"], "rate_per_connection": a.rate, "connections": a.connections, "chunk_size": a.chunk_size,
        "seconds": {"ferry_1": t1, f"ferry_{a.connections}": tn, "aria2c": ta, "resume": tr},
        "speedup": speedup, "ratio_vs_aria2c": vs_aria, "peak_rss_bytes": rss,
        "resume": {"fetched_before_kill": before_kill, "fetched_after": refetched, "limit": missing_upper},
        "targets_met": {"speedup": speedup >= 6, "aria2c": vs_aria >= 0.9, "resume": refetched <= missing_upper and ok_blob},
    }
    return harness.finish("throttled", out, a.json)


if __name__ == "__main__":
    sys.exit(main())
