#!/usr/bin/env python3
"""registry → bundle: `ferry save` of a set of images vs `skopeo copy` of the same images to `oci:` and to
`docker-archive:` (one image per call, as users script it), and the parallel-curl ceiling, in one run. Each
command starts after `sync` (the harness does it), so none pays for the writeback of what the one before left dirty,
and the tools take turns at running first (use --runs 4 or more), since the one after a big writer finds the disk busy.

Target (DESIGN §6, issue 5): Ferry ≥ 2× the faster skopeo path and ≥ 0.8× the curl ceiling.

usage: perf/save.py BIN_DIR [--images N] [--size BYTES_PER_IMAGE] [--layers N] [--runs N] [--json FILE]
"""
import argparse
import datetime
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bin_dir")
    p.add_argument("--images", type=int, default=4)
    p.add_argument("--size", type=int, default=512 << 20)
    p.add_argument("--layers", type=int, default=8)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json")
    a = p.parse_args()
    bins = harness.Bins(a.bin_dir)
    work = harness.workdir()
    registry = harness.Registry(bins, work)
    try:
        refs, digests = [], set()
        for i in range(a.images):
            image_dir = os.path.join(work, f"save-image-{a.size}-{a.layers}-{i}")
            image = harness.make_image(bins, image_dir, a.size, a.layers, seed=100 + i)
            ref = f"{registry.address}/perf/app{i}:1"
            harness.seed(bins, image_dir, f"http://{ref}")
            refs.append(ref)
            for m in image["manifests"]:
                digests.add((f"perf/app{i}", m["config"]["digest"]))
                digests.update((f"perf/app{i}", l["blob"]["digest"]) for l in m["layers"])
        total = a.images * a.size
        urls = [f"http://{registry.address}/v2/{repo}/blobs/{d}" for repo, d in sorted(digests)]
        results = {"ferry": [], "skopeo_oci": [], "skopeo_docker_archive": [], "curl": [], "curl_on_disk": []}
        rss = []
        dest = os.path.join(work, "save-dest")
        for run in range(a.runs):
            # Each tool in each position in turn: a tool that runs right after another one wrote gigabytes finds the
            # disk still busy (the host's, under the sync), and a fixed order would charge that to one tool only.
            tools = ["ferry", "skopeo_oci", "skopeo_docker_archive", "curl"]
            for tool in tools[run % 4:] + tools[:run % 4]:
                harness.fresh_dir(dest)
                os.makedirs(dest)
                if tool == "ferry":
                    t, m, rc = harness.timed([bins.ferry, "save", "--quiet", "-o", os.path.join(dest, "b.tar")] + refs)
                    if rc:
                        sys.exit("perf: ferry save failed")
                    rss.append(m)
                elif tool == "curl":
                    t = harness.parallel_curl(urls, dest)
                    # Ferry's bundle is on the disk when it exits (written around the page cache, then fsync'd);
                    # curl's bytes are still in the page cache. For reading the figures only: the target is `t`.
                    synced = time.perf_counter()
                    os.sync()
                    results["curl_on_disk"].append(t + time.perf_counter() - synced)
                else:
                    t = 0.0
                    for i, ref in enumerate(refs):
                        target = f"oci:{dest}/oci:{ref}" if tool == "skopeo_oci" else f"docker-archive:{dest}/d{i}.tar:{ref}"
                        dt, _, rc = harness.timed(["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{ref}", target])
                        t += dt
                results[tool].append(t)
            print(f"run {run + 1}/{a.runs}: ferry {results['ferry'][-1]:.2f}s  skopeo oci {results['skopeo_oci'][-1]:.2f}s  "
                  f"skopeo docker-archive {results['skopeo_docker_archive'][-1]:.2f}s  curl×8 {results['curl'][-1]:.2f}s", file=sys.stderr)
        harness.fresh_dir(dest)
    finally:
        registry.stop()
    med = {k: harness.summarize(v)["median"] for k, v in results.items()}
    faster_skopeo = min(med["skopeo_oci"], med["skopeo_docker_archive"])
    ratio = faster_skopeo / med["ferry"]
    ceiling = med["curl"] / med["ferry"]
    print(f"\nregistry → bundle, {a.images} images, {total / 2**30:.2f} GiB, median of {a.runs}")
    print(f"  {'tool':<28}{'seconds':>9}{'MB/s':>9}")
    for k, label in (("ferry", "ferry save"), ("skopeo_oci", "skopeo copy → oci:"), ("skopeo_docker_archive", "skopeo copy → docker-archive:"), ("curl", "curl ×8 (ceiling)")):
        print(f"  {label:<28}{med[k]:>9.2f}{harness.mbps(total, med[k]):>9.0f}")
    print(f"  {'curl ×8, then sync':<28}{med['curl_on_disk']:>9.2f}{harness.mbps(total, med['curl_on_disk']):>9.0f}"
          "   (its bytes on the disk, as Ferry's are at exit; for reading, not a target)")
    print(f"  ferry / faster skopeo: {ratio:.2f}× (target ≥ 2×)   ferry / ceiling: {ceiling:.2f}× (target ≥ 0.8×)   "
          f"ferry peak RSS {max(rss) / 1e6:.0f} MB")
    out = {
        "case": "save", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(), "machine": harness.machine(),
        "bytes": total, "images": a.images, "seconds": {k: harness.summarize(v) for k, v in results.items()},
        "peak_rss_bytes": max(rss), "ratio_vs_skopeo": ratio, "ratio_vs_ceiling": ceiling,
        "ratio_vs_curl_on_disk": med["curl_on_disk"] / med["ferry"],
        "targets_met": {"skopeo": ratio >= 2, "ceiling": ceiling >= 0.8},
    }
    return harness.finish("save", out, a.json)


if __name__ == "__main__":
    sys.exit(main())
