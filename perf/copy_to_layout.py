#!/usr/bin/env python3
"""registry → OCI layout: Ferry vs `skopeo copy … oci:`, and the parallel-curl ceiling, in one run.

Target (DESIGN §6, issue 2): Ferry ≥ 1.5× skopeo on a ~2 GiB 30-layer image; Ferry's peak RSS < 100 MB.

usage: perf/copy_to_layout.py BIN_DIR [--size BYTES] [--layers N] [--runs N] [--json FILE]
"""
import argparse
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bin_dir")
    p.add_argument("--size", type=int, default=2 << 30)
    p.add_argument("--layers", type=int, default=30)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json")
    a = p.parse_args()

    bins = harness.Bins(a.bin_dir)
    work = harness.workdir()
    image_dir = os.path.join(work, f"image-{a.size}-{a.layers}")
    print(f"generating a {a.size / 2**30:.2f} GiB image with {a.layers} layers in {image_dir} …", file=sys.stderr)
    image = harness.make_image(bins, image_dir, a.size, a.layers)
    total = sum(b["size"] for b in image["blobs"])

    registry = harness.Registry(bins, work)
    try:
        ref = f"{registry.address}/perf/big:1"
        harness.seed(bins, image_dir, f"http://{ref}")
        blobs = {m["config"]["digest"] for m in image["manifests"]} | {l["blob"]["digest"] for m in image["manifests"] for l in m["layers"]}
        urls = [f"http://{registry.address}/v2/perf/big/blobs/{d}" for d in sorted(blobs)]
        results = {"ferry": [], "skopeo": [], "curl": []}
        rss = {"ferry": [], "skopeo": []}
        dest = os.path.join(work, "dest")
        for run in range(a.runs):
            # Alternate the tools so drift on a shared machine hits all of them alike.
            t, m, rc = harness.timed([bins.ferry, "copy", "--quiet", f"docker://{ref}", f"oci:{harness.fresh_dir(dest)}"])
            if rc != 0:
                sys.exit("perf: ferry failed")
            results["ferry"].append(t)
            rss["ferry"].append(m)
            t, m, rc = harness.timed(["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{ref}", f"oci:{harness.fresh_dir(dest)}:1"])
            if rc != 0:
                sys.exit("perf: skopeo failed")
            results["skopeo"].append(t)
            rss["skopeo"].append(m)
            results["curl"].append(harness.parallel_curl(urls, harness.fresh_dir(dest)))
            print(f"run {run + 1}/{a.runs}: ferry {results['ferry'][-1]:.2f}s  skopeo {results['skopeo'][-1]:.2f}s  "
                  f"curl×8 {results['curl'][-1]:.2f}s", file=sys.stderr)
        harness.fresh_dir(dest)
    finally:
        registry.stop()

    med = {k: harness.summarize(v)["median"] for k, v in results.items()}
    ratio = med["skopeo"] / med["ferry"]
    ceiling = med["curl"] / med["ferry"]
    peak = max(rss["ferry"])
    print(f"\nregistry → oci layout, {total / 2**30:.2f} GiB in {len(image['blobs'])} blobs, median of {a.runs}")
    print(f"  {'tool':<14}{'seconds':>9}{'MB/s':>9}{'peak RSS':>12}")
    for k, label in (("ferry", "ferry"), ("skopeo", "skopeo"), ("curl", "curl ×8 (ceiling)")):
        r = f"{max(rss[k]) / 1e6:.0f} MB" if k in rss else "-"
        print(f"  {label:<14}{med[k]:>9.2f}{harness.mbps(total, med[k]):>9.0f}{r:>12}")
    print(f"  ferry / skopeo speed: {ratio:.2f}× (target ≥ 1.5×)   ferry / ceiling: {ceiling:.2f}×   "
          f"ferry peak RSS {peak / 1e6:.0f} MB (target < 100 MB)")
    out = {
        "case": "copy_to_layout", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "machine": harness.machine(), "bytes": total, "blobs": len(image["blobs"]),
        "seconds": {k: harness.summarize(v) for k, v in results.items()},
        "peak_rss_bytes": {k: max(v) for k, v in rss.items()},
        "ratio_vs_skopeo": ratio, "ratio_vs_ceiling": ceiling,
        "targets_met": {"speed": ratio >= 1.5, "rss": peak < 100e6},
    }
    return harness.finish("copy_to_layout", out, a.json)


if __name__ == "__main__":
    sys.exit(main())
