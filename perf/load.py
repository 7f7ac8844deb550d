#!/usr/bin/env python3
"""bundle → registry: `ferry load` vs `skopeo copy oci:DIR docker://…`, and the parallel-curl-PUT ceiling, in one run.

Every push goes into an empty registry (a fresh one each time), so nothing is skipped or mounted.
Then, through a proxy that caps each connection at 10 MB/s each way, `ferry load --jobs 8` vs `--jobs 1`.

Targets (DESIGN §6, issue 6): Ferry ≥ 1.5× skopeo and ≥ 0.8× the ceiling (monolithic POST + PUT of every blob with
curl, 8 at a time); through the capped link, --jobs 8 ≥ 4× --jobs 1.

usage: perf/load.py BIN_DIR [--size BYTES] [--layers N] [--runs N] [--capped-size BYTES] [--capped-layers N] [--json FILE]
"""
import argparse
import datetime
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class Proxy:
    """`ferry-testkit proxy` with a per-connection throttle (request and response bodies alike)."""

    def __init__(self, bins, upstream, rate):
        self.proc = subprocess.Popen([bins.testkit, "proxy", "--listen", "127.0.0.1:0", "--upstream", upstream,
                                      "--fault", f"throttle={rate}"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.address = self.proc.stdout.readline().strip().split(" ", 1)[1]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)


def empty_registry(bins, work):
    """A registry with a storage root of its own, removed when it stops."""
    root = harness.fresh_dir(os.path.join(work, "load-root"))
    os.makedirs(root)
    return harness.Registry(bins, work, root=root), root


def bundle_of(bins, work, image_dir, size, layers):
    """The image as a Ferry bundle, made once by `ferry save` from a seeded registry and kept in the work dir."""
    path = os.path.join(work, f"bundle-{size}-{layers}.tar")
    if os.path.exists(path):
        with open(path + ".name") as f:
            return path, f.read().strip()
    registry, root = empty_registry(bins, work)
    try:
        name = f"{registry.address}/perf/big:1"
        harness.seed(bins, image_dir, f"http://{name}")
        subprocess.run([bins.ferry, "save", "-q", "-o", path, name], check=True, stdout=subprocess.DEVNULL)
    finally:
        registry.stop()
        harness.fresh_dir(root)
    with open(path + ".name", "w") as f:
        f.write(name)
    return path, name


def curl_put_ceiling(address, blobs, layout, parallel=8):
    """Monolithic upload of every blob with plain curl, 8 at a time: POST for a session, PUT the file to it."""
    script = ('set -e; loc=$(curl -sfS -X POST -D - -o /dev/null "$1" | tr -d "\\r" | '
              'awk \'tolower($1)=="location:"{print $2}\'); '
              'case "$loc" in *\\?*) sep="&";; *) sep="?";; esac; '
              'curl -sfS -o /dev/null -X PUT -H "Expect:" -H "Content-Type: application/octet-stream" '
              '-T "$2" "$loc${sep}digest=$3"')
    start = time.perf_counter()
    pending = list(blobs)
    running = []
    while pending or running:
        while pending and len(running) < parallel:
            b = pending.pop(0)
            path = os.path.join(layout, "blobs", "sha256", b["digest"].split(":")[1])
            running.append(subprocess.Popen(["sh", "-c", script, "sh", f"http://{address}/v2/perf/curl/blobs/uploads/", path, b["digest"]]))
        running[0].wait()
        if running[0].returncode != 0:
            sys.exit("perf: a curl upload failed")
        running.pop(0)
    return time.perf_counter() - start


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bin_dir")
    p.add_argument("--size", type=int, default=2 << 30)
    p.add_argument("--layers", type=int, default=30)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--rate", type=int, default=10_000_000)
    p.add_argument("--capped-size", type=int, default=256 << 20, help="image size for the capped-link case")
    p.add_argument("--capped-layers", type=int, default=16)
    p.add_argument("--json")
    a = p.parse_args()

    bins = harness.Bins(a.bin_dir)
    work = harness.workdir()
    env = dict(os.environ, XDG_STATE_HOME=harness.fresh_dir(os.path.join(work, "load-state")))

    image_dir = os.path.join(work, f"image-{a.size}-{a.layers}")
    print(f"generating a {a.size / 2**30:.2f} GiB image with {a.layers} layers and its bundle in {work} …", file=sys.stderr)
    image = harness.make_image(bins, image_dir, a.size, a.layers)
    total = sum(b["size"] for b in image["blobs"])
    blobs = [b for b in image["blobs"] if "manifest" not in b["mediaType"]]
    bundle, _ = bundle_of(bins, work, image_dir, a.size, a.layers)

    results = {"ferry": [], "skopeo": [], "curl": []}
    rss = {"ferry": [], "skopeo": []}
    for run in range(a.runs):
        # Alternate the tools so drift on a shared machine hits all of them alike; each gets an empty registry.
        registry, root = empty_registry(bins, work)
        try:
            t, m, rc = harness.timed([bins.ferry, "load", "--quiet", bundle, "--to", f"{registry.address}/ns"], env=env)
        finally:
            registry.stop()
        if rc != 0:
            sys.exit("perf: ferry load failed")
        results["ferry"].append(t)
        rss["ferry"].append(m)

        registry, root = empty_registry(bins, work)
        try:
            t, m, rc = harness.timed(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci:{image_dir}:1",
                                      f"docker://{registry.address}/perf/big:1"])
        finally:
            registry.stop()
        if rc != 0:
            sys.exit("perf: skopeo failed")
        results["skopeo"].append(t)
        rss["skopeo"].append(m)

        registry, root = empty_registry(bins, work)
        try:
            results["curl"].append(curl_put_ceiling(registry.address, blobs, image_dir))
        finally:
            registry.stop()
        harness.fresh_dir(root)
        print(f"run {run + 1}/{a.runs}: ferry {results['ferry'][-1]:.2f}s  skopeo {results['skopeo'][-1]:.2f}s  "
              f"curl PUT ×8 {results['curl'][-1]:.2f}s", file=sys.stderr)

    # The capped link: a smaller image, or one connection at 10 MB/s would take minutes.
    capped_dir = os.path.join(work, f"image-{a.capped_size}-{a.capped_layers}")
    capped_image = harness.make_image(bins, capped_dir, a.capped_size, a.capped_layers)
    capped_total = sum(b["size"] for b in capped_image["blobs"])
    capped_bundle, _ = bundle_of(bins, work, capped_dir, a.capped_size, a.capped_layers)
    capped = {}
    for jobs in (8, 1):
        registry, root = empty_registry(bins, work)
        proxy = Proxy(bins, registry.address, a.rate)
        try:
            t, _, rc = harness.timed([bins.ferry, "load", "--quiet", "--jobs", str(jobs), capped_bundle, "--to", f"{proxy.address}/ns"], env=env)
        finally:
            proxy.stop()
            registry.stop()
            harness.fresh_dir(root)
        if rc != 0:
            sys.exit(f"perf: ferry load --jobs {jobs} through the capped proxy failed")
        capped[jobs] = t
        print(f"capped link: ferry --jobs {jobs} {t:.2f}s", file=sys.stderr)

    med = {k: harness.summarize(v)["median"] for k, v in results.items()}
    ratio = med["skopeo"] / med["ferry"]
    ceiling = med["curl"] / med["ferry"]
    speedup = capped[1] / capped[8]
    peak = max(rss["ferry"])
    print(f"\nbundle → empty registry, {total / 2**30:.2f} GiB in {len(blobs)} blobs, median of {a.runs}")
    print(f"  {'tool':<26}{'seconds':>9}{'MB/s':>9}{'peak RSS':>12}")
    for k, label in (("ferry", "ferry load"), ("skopeo", "skopeo copy oci: docker://"), ("curl", "curl POST+PUT ×8 (ceiling)")):
        r = f"{max(rss[k]) / 1e6:.0f} MB" if k in rss else "-"
        print(f"  {label:<26}{med[k]:>9.2f}{harness.mbps(total, med[k]):>9.0f}{r:>12}")
    print(f"  ferry / skopeo speed: {ratio:.2f}× (target ≥ 1.5×)   ferry / ceiling: {ceiling:.2f}× (target ≥ 0.8×)")
    print(f"\n{capped_total / 2**20:.0f} MiB in {a.capped_layers} layers through {a.rate / 1e6:.0f} MB/s per connection")
    for jobs in (1, 8):
        print(f"  ferry load --jobs {jobs:<8}{capped[jobs]:>9.2f}{harness.mbps(capped_total, capped[jobs]):>9.1f}")
    print(f"  --jobs 8 / --jobs 1: {speedup:.2f}× (target ≥ 4×)")
    out = {
        "case": "load", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(), "machine": harness.machine(),
        "bytes": total, "blobs": len(blobs),
        "seconds": {k: harness.summarize(v) for k, v in results.items()},
        "peak_rss_bytes": {k: max(v) for k, v in rss.items()},
        "ratio_vs_skopeo": ratio, "ratio_vs_ceiling": ceiling,
        "capped": {"bytes": capped_total, "layers": a.capped_layers, "rate_per_connection": a.rate,
                   "seconds": {"jobs_1": capped[1], "jobs_8": capped[8]}, "speedup": speedup},
        "targets_met": {"vs_skopeo": ratio >= 1.5, "vs_ceiling": ceiling >= 0.8, "capped_speedup": speedup >= 4},
    }
    return harness.finish("load", out, a.json)


if __name__ == "__main__":
    sys.exit(main())
