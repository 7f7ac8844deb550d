#!/usr/bin/env python3
"""Layer recompression: `ferry copy --dest-compress zstd` of an image with 1 GiB (uncompressed) of gzip layers, from
a registry into an `oci:` layout, vs `gzip -dc | zstd -T2 -3` over the same layers already on local disk, in one run.

Target (issue 4): Ferry, download included, ≥ 1.5× the shell pipeline. Ferry also checks every layer's digest and
DiffID on the way; the pipeline checks nothing.

usage: perf/recompress.py BIN_DIR [--size BYTES] [--layers N] [--runs N] [--json FILE]
"""
import argparse
import datetime
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def shell_pipeline(blobs, out_dir):
    """Each layer through `gzip -dc | zstd -T2 -3`, one after another as a script would; returns wall seconds."""
    start = time.perf_counter()
    for i, blob in enumerate(blobs):
        out = os.path.join(out_dir, f"l{i}.zst")
        subprocess.run(f"gzip -dc '{blob}' | zstd -q -T2 -3 -c > '{out}'", shell=True, check=True)
    return time.perf_counter() - start


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bin_dir")
    p.add_argument("--size", type=int, default=1 << 30, help="uncompressed bytes of all layers")
    p.add_argument("--layers", type=int, default=8)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json")
    a = p.parse_args()
    bins = harness.Bins(a.bin_dir)
    work = harness.workdir()
    image_dir = os.path.join(work, f"recompress-image-{a.size}-{a.layers}")
    if not os.path.exists(os.path.join(image_dir, "built-image.json")):
        print(f"building a {a.size / 2**30:.2f} GiB image of log-like layers in {image_dir} …", file=sys.stderr)
    image = harness.make_image(bins, image_dir, a.size, a.layers, compressible=True)
    layers = [l for m in image["manifests"] for l in m["layers"]]
    blobs = [os.path.join(image_dir, "blobs", "sha256", l["blob"]["digest"].split(":")[1]) for l in layers]
    compressed = sum(l["blob"]["size"] for l in layers)

    registry = harness.Registry(bins, work)
    try:
        ref = f"{registry.address}/perf/recompress:1"
        harness.seed(bins, image_dir, f"http://{ref}")
        env = dict(os.environ, XDG_STATE_HOME=os.path.join(work, "recompress-state"))
        dest = os.path.join(work, "recompress-dest")
        results = {"ferry": [], "shell": []}
        rss, loads, sizes = [], [], {}
        for run in range(a.runs):
            loads.append(os.getloadavg()[0])
            harness.fresh_dir(dest)
            t, m, rc = harness.timed([bins.ferry, "copy", "--quiet", "--dest-compress", "zstd", f"docker://{ref}", f"oci:{dest}"], env=env)
            if rc:
                sys.exit("perf: ferry copy --dest-compress failed")
            results["ferry"].append(t)
            rss.append(m)
            sizes["ferry"] = sum(os.path.getsize(os.path.join(dest, "blobs", "sha256", n))
                                 for n in os.listdir(os.path.join(dest, "blobs", "sha256")))
            harness.fresh_dir(dest)
            os.makedirs(dest)
            results["shell"].append(shell_pipeline(blobs, dest))
            sizes["shell"] = sum(os.path.getsize(os.path.join(dest, n)) for n in os.listdir(dest))
            print(f"  run {run + 1}: ferry {results['ferry'][-1]:.2f} s, gzip -dc | zstd -T2 -3 {results['shell'][-1]:.2f} s", file=sys.stderr)
        harness.fresh_dir(dest)
    finally:
        registry.stop()

    s = {k: harness.summarize(v) for k, v in results.items()}
    ratio = s["shell"]["median"] / s["ferry"]["median"]
    print(f"recompress gzip → zstd -3, {a.size / 2**30:.2f} GiB uncompressed in {len(layers)} layers ({compressed / 2**20:.0f} MiB gzip), runs={a.runs}, load {min(loads):.1f}–{max(loads):.1f}")
    print(f"  ferry copy --dest-compress zstd (registry → oci:) {s['ferry']['median']:.2f} s ({harness.mbps(a.size, s['ferry']['median']):.0f} MB/s of content), peak RSS {max(rss) / 2**20:.0f} MB")
    print(f"  gzip -dc | zstd -T2 -3 (local files)             {s['shell']['median']:.2f} s")
    print(f"  ratio {ratio:.2f}× (target ≥ 1.5×); output: ferry blobs {sizes['ferry'] / 2**20:.1f} MiB (with config and manifests), zstd {sizes['shell'] / 2**20:.1f} MiB")
    out = {
        "case": "recompress", "when": datetime.datetime.now().isoformat(timespec="seconds"), "machine": harness.machine(),
        "size": a.size, "layers": len(layers), "compressed": compressed, "load": loads, "results": s,
        "ratio": ratio, "peak_rss": max(rss), "sizes": sizes, "targets_met": {"ratio_1_5": ratio >= 1.5},
    }
    return harness.finish("recompress", out, a.json)


if __name__ == "__main__":
    sys.exit(main())
