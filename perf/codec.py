#!/usr/bin/env python3
"""Codec: Ferry's sha256, parallel gzip, gunzip and zstd vs the system tools, in one run on the same data.

Targets (DESIGN §6, issue 4), on 1 GiB of log-like text generated here (never committed):
  sha256        Ferry ≥ 0.9× `openssl dgst -sha256`; two blobs at once ≥ 1.7× one
  gzip -6       Ferry ≥ 2× `pigz -p2 -6`, output ≤ 1% larger than pigz's
  gunzip        Ferry ≥ 2.5× `gzip -dc`
  zstd -3       Ferry ≥ 0.95× `zstd -T2 -3`
Ferry runs through `ferry-testkit codec`, i.e. the Codec module's Pipeline with its thread pools, reading and writing
files as the tools do. "ferry" rows compute every digest Ferry needs (input, content, output sha256) in the same pass;
"ferry, no digests" rows do only what the tool does. Targets are judged on the digest-free row (the tools hash
nothing); both are printed. Informational rows: `igzip -d` (ISA-L's own CLI: the gunzip ceiling), `zstd -dc`, and
gzip → zstd recompression vs `gzip -dc | zstd -T2 -3`. The load average is recorded: rerun when it is not near 0.

usage: perf/codec.py BIN_DIR [--size BYTES] [--runs N] [--json FILE] [--keep]
"""
import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


CPU = {}  # command label → CPU seconds (user + system, the child and what it waited for) of each run


def run_timed(argv, stdout_path=None, stdin_path=None, shell=False, label=None):
    """Runs one command; returns wall seconds and records CPU seconds under `label`. stdout goes to `stdout_path`
    (or /dev/null). Exits on failure."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    inp = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=out, stdin=inp, stderr=subprocess.DEVNULL, shell=shell)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    for f in (out, inp):
        if f is not subprocess.DEVNULL:
            f.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"perf: {argv if shell else ' '.join(argv)} exited {code}")
    if label:
        CPU.setdefault(label, []).append(usage.ru_utime + usage.ru_stime)
    return seconds


PEAK_RSS = []


def ferry_pipe(bins, *args, label=None):
    """`ferry-testkit codec pipe …`: returns (seconds, result JSON); records the child's peak RSS in PEAK_RSS and
    its CPU seconds under `label`."""
    start = time.perf_counter()
    proc = subprocess.Popen([bins.testkit, "codec", "pipe", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)  # the JSON and any error text are far smaller than a pipe's buffer
    seconds = time.perf_counter() - start
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode(errors="replace")
    proc.stdout.close()
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"perf: codec pipe {' '.join(args)} exited {code}: {err[-2000:]}")
    PEAK_RSS.append(usage.ru_maxrss * 1024)
    if label:
        CPU.setdefault(label, []).append(usage.ru_utime + usage.ru_stime)
    return seconds, json.loads(out)


def sha256_of(path):
    out = subprocess.run(["openssl", "dgst", "-sha256", "-r", path], capture_output=True, text=True, check=True).stdout
    return "sha256:" + out.split()[0]


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bin_dir")
    p.add_argument("--size", type=int, default=1 << 30)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json")
    p.add_argument("--keep", action="store_true", help="keep the generated data for the next run")
    a = p.parse_args()

    # Only ferry-testkit is needed here (harness.Bins also wants `ferry`).
    bins = argparse.Namespace(testkit=os.path.join(os.path.abspath(a.bin_dir), "ferry-testkit"))
    if not os.access(bins.testkit, os.X_OK):
        sys.exit(f"perf: {bins.testkit} is missing; run `swift build -c release` first (make bench does)")
    for tool in ("openssl", "pigz", "gzip", "zstd"):
        if not shutil.which(tool):
            sys.exit(f"perf: {tool} is missing (make deps installs it)")
    igzip = shutil.which("igzip")
    work = os.path.join(harness.workdir(), "codec")
    os.makedirs(work, exist_ok=True)
    data = os.path.join(work, f"logs-{a.size}.txt")
    if not os.path.exists(data):
        print(f"generating {a.size / 2**30:.2f} GiB of log-like text in {data} …", file=sys.stderr)
        subprocess.run([bins.testkit, "codec", "logs", "--out", data, "--size", str(a.size)], check=True)
    f = {name: os.path.join(work, name) for name in
         ("pigz.gz", "ferry.gz", "zstd.zst", "ferry.zst", "gzip6.gz", "recompressed.zst", "scratch")}
    # The gunzip input: what `gzip -6` writes (one member, as most registries serve layers).
    if not os.path.exists(f["gzip6.gz"]):
        run_timed(["gzip", "-6", "-c", data], stdout_path=f["gzip6.gz"])
    want = sha256_of(data)

    t = {k: [] for k in (
        "openssl", "ferry_sha", "openssl_x2", "ferry_sha_x2",
        "pigz", "ferry_gzip", "ferry_gzip_nodigest",
        "gzip_dc", "ferry_gunzip", "ferry_gunzip_nodigest", "igzip_d",
        "zstd", "ferry_zstd", "ferry_zstd_nodigest", "zstd_dc", "ferry_unzstd",
        "gunzip_zstd", "ferry_recompress")}
    loads = []
    for run in range(a.runs):
        loads.append(loadavg())
        # Alternate tools and Ferry within each case so drift on a shared machine hits both alike.
        t["openssl"].append(run_timed(["openssl", "dgst", "-sha256", data], label="openssl"))
        t["ferry_sha"].append(run_timed([bins.testkit, "codec", "sha256", data], label="ferry_sha"))
        t["openssl_x2"].append(run_timed(f"openssl dgst -sha256 '{data}' & openssl dgst -sha256 '{data}' & wait", shell=True, label="openssl_x2"))
        t["ferry_sha_x2"].append(run_timed([bins.testkit, "codec", "sha256", data, data], label="ferry_sha_x2"))

        t["pigz"].append(run_timed(["pigz", "-p2", "-6", "-c", data], stdout_path=f["pigz.gz"], label="pigz"))
        s, gz = ferry_pipe(bins, "--in", data, "--out", f["ferry.gz"], "--encode", "gzip", "--level", "6", label="ferry_gzip")
        t["ferry_gzip"].append(s)
        t["ferry_gzip_nodigest"].append(ferry_pipe(bins, "--in", data, "--out", f["ferry.gz"], "--encode", "gzip",
                                                   "--level", "6", "--hash", "none", label="ferry_gzip_nodigest")[0])

        t["gzip_dc"].append(run_timed(["gzip", "-dc", f["gzip6.gz"]], stdout_path="/dev/null", label="gzip_dc"))
        s, gun = ferry_pipe(bins, "--in", f["gzip6.gz"], "--out", "/dev/null", "--decode", "gzip", label="ferry_gunzip")
        t["ferry_gunzip"].append(s)
        t["ferry_gunzip_nodigest"].append(ferry_pipe(bins, "--in", f["gzip6.gz"], "--out", "/dev/null",
                                                     "--decode", "gzip", "--hash", "none", label="ferry_gunzip_nodigest")[0])
        if igzip:
            t["igzip_d"].append(run_timed([igzip, "-d", "-c", f["gzip6.gz"]], stdout_path="/dev/null", label="igzip_d"))

        t["zstd"].append(run_timed(["zstd", "-q", "-T2", "-3", "-c", data], stdout_path=f["zstd.zst"], label="zstd"))
        s, zs = ferry_pipe(bins, "--in", data, "--out", f["ferry.zst"], "--encode", "zstd", "--level", "3", label="ferry_zstd")
        t["ferry_zstd"].append(s)
        t["ferry_zstd_nodigest"].append(ferry_pipe(bins, "--in", data, "--out", f["ferry.zst"], "--encode", "zstd",
                                                   "--level", "3", "--hash", "none", label="ferry_zstd_nodigest")[0])
        t["zstd_dc"].append(run_timed(["zstd", "-q", "-dc", f["zstd.zst"]], stdout_path="/dev/null", label="zstd_dc"))
        t["ferry_unzstd"].append(ferry_pipe(bins, "--in", f["zstd.zst"], "--out", "/dev/null", "--decode", "zstd", label="ferry_unzstd")[0])

        t["gunzip_zstd"].append(run_timed(f"gzip -dc '{f['gzip6.gz']}' | zstd -q -T2 -3 -c > '{f['recompressed.zst']}'",
                                          shell=True, label="gunzip_zstd"))
        s, rec = ferry_pipe(bins, "--in", f["gzip6.gz"], "--out", f["recompressed.zst"], "--decode", "gzip",
                            "--encode", "zstd", "--level", "3", label="ferry_recompress")
        t["ferry_recompress"].append(s)
        loads.append(loadavg())
        print(f"run {run + 1}/{a.runs} (load {loads[-2]:.2f} → {loads[-1]:.2f}): "
              f"sha {t['ferry_sha'][-1]:.2f}/{t['openssl'][-1]:.2f}s  gzip {t['ferry_gzip_nodigest'][-1]:.2f}/{t['pigz'][-1]:.2f}s  "
              f"gunzip {t['ferry_gunzip_nodigest'][-1]:.2f}/{t['gzip_dc'][-1]:.2f}s  "
              f"zstd {t['ferry_zstd_nodigest'][-1]:.2f}/{t['zstd'][-1]:.2f}s", file=sys.stderr)

    # Correctness, not timed: every Ferry output decodes with the system tools to the original, and every digest
    # Ferry reported is the real one.
    checks = {
        "gzip -dc of Ferry's gzip": subprocess.run(f"gzip -dc '{f['ferry.gz']}' | cmp -s - '{data}'", shell=True).returncode == 0,
        "zstd -dc of Ferry's zstd": subprocess.run(f"zstd -q -dc '{f['ferry.zst']}' | cmp -s - '{data}'", shell=True).returncode == 0,
        "zstd -dc of Ferry's recompressed": subprocess.run(f"zstd -q -dc '{f['recompressed.zst']}' | cmp -s - '{data}'", shell=True).returncode == 0,
        "gzip digests": gz["content"]["digest"] == want and gz["output"]["digest"] == sha256_of(f["ferry.gz"]),
        "gunzip digests": gun["content"]["digest"] == want and gun["input"]["digest"] == sha256_of(f["gzip6.gz"]),
        "zstd digests": zs["content"]["digest"] == want and zs["output"]["digest"] == sha256_of(f["ferry.zst"]),
        "recompress digests": rec["content"]["digest"] == want and rec["output"]["digest"] == sha256_of(f["recompressed.zst"]),
    }

    med = {k: statistics.median(v) for k, v in t.items() if v}
    n = a.size
    size = {k: os.path.getsize(f[k]) for k in ("pigz.gz", "ferry.gz", "zstd.zst", "ferry.zst", "gzip6.gz")}
    def paired(num, den, factor=1.0):
        """Median over runs of the speed ratio of two commands run back to back: on a shared machine the two of a
        pair see about the same load, so this is steadier than a ratio of medians."""
        return statistics.median(factor * a_ / b_ for a_, b_ in zip(t[num], t[den]))

    ratios = {
        "sha256_vs_openssl": paired("openssl", "ferry_sha"),
        "sha256_two_vs_one": paired("ferry_sha", "ferry_sha_x2", 2.0),
        "gzip_vs_pigz": paired("pigz", "ferry_gzip_nodigest"),
        "gzip_with_digests_vs_pigz": paired("pigz", "ferry_gzip"),
        "gzip_size_vs_pigz": size["ferry.gz"] / size["pigz.gz"],
        "gunzip_vs_gzip": paired("gzip_dc", "ferry_gunzip_nodigest"),
        "gunzip_with_digests_vs_gzip": paired("gzip_dc", "ferry_gunzip"),
        "zstd_vs_zstd_cli": paired("zstd", "ferry_zstd_nodigest"),
        "zstd_with_digests_vs_zstd_cli": paired("zstd", "ferry_zstd"),
        "zstd_size_vs_zstd_cli": size["ferry.zst"] / size["zstd.zst"],
        "unzstd_vs_zstd_cli": paired("zstd_dc", "ferry_unzstd"),
        "recompress_vs_shell_pipe": paired("gunzip_zstd", "ferry_recompress"),
        # CPU seconds per byte, which other work on the machine hardly changes: how much cheaper Ferry's work is.
        "cpu_gzip_vs_pigz": statistics.median(CPU["pigz"]) / statistics.median(CPU["ferry_gzip_nodigest"]),
        "cpu_zstd_vs_zstd_cli": statistics.median(CPU["zstd"]) / statistics.median(CPU["ferry_zstd_nodigest"]),
    }
    if "igzip_d" in med:
        ratios["gunzip_vs_igzip_ceiling"] = paired("igzip_d", "ferry_gunzip_nodigest")
    targets = {
        "sha256": ratios["sha256_vs_openssl"] >= 0.9,
        "sha256_two_blobs": ratios["sha256_two_vs_one"] >= 1.7,
        "gzip_speed": ratios["gzip_vs_pigz"] >= 2.0,
        "gzip_size": ratios["gzip_size_vs_pigz"] <= 1.01,
        "gunzip": ratios["gunzip_vs_gzip"] >= 2.5,
        "zstd": ratios["zstd_vs_zstd_cli"] >= 0.95,
        "correct": all(checks.values()),
    }

    rows = [
        ("sha256", "openssl dgst -sha256", "openssl", n, None),
        ("", "ferry", "ferry_sha", n, None),
        ("", "openssl ×2 at once", "openssl_x2", 2 * n, None),
        ("", "ferry ×2 at once", "ferry_sha_x2", 2 * n, None),
        ("gzip -6", "pigz -p2 -6", "pigz", n, size["pigz.gz"]),
        ("", "ferry", "ferry_gzip", n, size["ferry.gz"]),
        ("", "ferry, no digests", "ferry_gzip_nodigest", n, size["ferry.gz"]),
        ("gunzip", "gzip -dc", "gzip_dc", n, None),
        ("", "igzip -d (ceiling)", "igzip_d", n, None),
        ("", "ferry", "ferry_gunzip", n, None),
        ("", "ferry, no digests", "ferry_gunzip_nodigest", n, None),
        ("zstd -3", "zstd -T2 -3", "zstd", n, size["zstd.zst"]),
        ("", "ferry", "ferry_zstd", n, size["ferry.zst"]),
        ("", "ferry, no digests", "ferry_zstd_nodigest", n, size["ferry.zst"]),
        ("unzstd", "zstd -dc", "zstd_dc", n, None),
        ("", "ferry", "ferry_unzstd", n, None),
        ("gz → zst", "gzip -dc | zstd -T2 -3", "gunzip_zstd", n, None),
        ("", "ferry (all digests)", "ferry_recompress", n, None),
    ]
    print(f"\ncodec on {n / 2**30:.2f} GiB of log-like text, median of {a.runs} (ratios: median of back-to-back pairs), load average {min(loads):.2f}–{max(loads):.2f}"
          f" on {os.cpu_count()} cores")
    cpu = {k: statistics.median(v) for k, v in CPU.items()}
    print(f"  {'case':<10}{'tool':<26}{'seconds':>9}{'MB/s':>9}{'CPU s':>8}{'output':>14}")
    for case, label, key, nbytes, out_size in rows:
        if key not in med:
            continue
        o = f"{out_size / 1e6:.1f} MB" if out_size else ""
        c = f"{cpu[key]:.2f}" if key in cpu else ""
        print(f"  {case:<10}{label:<26}{med[key]:>9.2f}{harness.mbps(nbytes, med[key]):>9.0f}{c:>8}{o:>14}")
    print(f"  sha256 ferry/openssl {ratios['sha256_vs_openssl']:.2f}× (≥0.9)   two blobs/one {ratios['sha256_two_vs_one']:.2f}× (≥1.7)")
    print(f"  gzip ferry/pigz {ratios['gzip_vs_pigz']:.2f}× (≥2; with digests {ratios['gzip_with_digests_vs_pigz']:.2f}×)   "
          f"size {100 * (ratios['gzip_size_vs_pigz'] - 1):+.1f}% (≤ +1%)")
    print(f"  gunzip ferry/gzip -dc {ratios['gunzip_vs_gzip']:.2f}× (≥2.5; with digests {ratios['gunzip_with_digests_vs_gzip']:.2f}×)"
          + (f"   ferry/igzip {ratios['gunzip_vs_igzip_ceiling']:.2f}×" if "gunzip_vs_igzip_ceiling" in ratios else ""))
    print(f"  zstd ferry/zstd -T2 {ratios['zstd_vs_zstd_cli']:.2f}× (≥0.95; with digests {ratios['zstd_with_digests_vs_zstd_cli']:.2f}×)   "
          f"size {100 * (ratios['zstd_size_vs_zstd_cli'] - 1):+.1f}%")
    print(f"  CPU seconds, pigz/ferry gzip {ratios['cpu_gzip_vs_pigz']:.2f}×, zstd CLI/ferry zstd {ratios['cpu_zstd_vs_zstd_cli']:.2f}× "
          "(cost per byte, which other work on the machine hardly changes)")
    print(f"  recompress ferry/shell pipe {ratios['recompress_vs_shell_pipe']:.2f}×   unzstd ferry/zstd -dc {ratios['unzstd_vs_zstd_cli']:.2f}×")
    print(f"  ferry peak RSS over all pipelines: {max(PEAK_RSS) / 1e6:.0f} MB (bounded queues: flat whatever the size)")
    failed = [k for k, v in checks.items() if not v]
    print(f"  correctness: {'all outputs decode to the input and all digests match' if not failed else 'FAILED: ' + ', '.join(failed)}")
    if max(loads) > 1.0:
        print(f"  warning: load average reached {max(loads):.2f}; other work shared the cores, rerun for clean figures")

    out = {
        "case": "codec", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "machine": harness.machine(), "bytes": n, "runs": a.runs, "loadavg": loads,
        "seconds": {k: harness.summarize(v) for k, v in t.items() if v},
        "cpu_seconds": {k: harness.summarize(v) for k, v in CPU.items()},
        "output_bytes": size, "ferry_peak_rss_bytes": max(PEAK_RSS), "ratios": ratios, "checks": checks, "targets_met": targets,
    }
    path = a.json or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "codec.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(out, fh, indent=2)
    print(f"  JSON: {path}")
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
