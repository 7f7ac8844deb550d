"""Shared perf harness: real registries from ferry-testkit, synthetic images, timed runs with peak RSS.

Used by the perf/*.py cases. Only the Python standard library; traffic stays on loopback. `timed` and
`parallel_curl` sync before their clock starts, so no command pays for the writeback of what the one before it left
dirty in the page cache (tools that never sync leave gigabytes behind).
"""
import concurrent.futures
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time


class Bins:
    def __init__(self, bin_dir):
        self.dir = os.path.abspath(bin_dir)
        self.ferry = os.path.join(self.dir, "ferry")
        self.testkit = os.path.join(self.dir, "ferry-testkit")
        for b in (self.ferry, self.testkit):
            if not os.access(b, os.X_OK):
                sys.exit(f"perf: {b} is missing; run `swift build -c release` first (make bench does)")


class Registry:
    """A real Distribution registry started by `ferry-testkit registry`; stopped by PID."""

    def __init__(self, bins, work, variant="http", root=None):
        self.info_path = os.path.join(work, f"registry-{variant}-{time.time_ns()}.json")
        args = [bins.testkit, "registry", "--variant", variant, "--info", self.info_path]
        if root:
            args += ["--root", root]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening "):
            self.stop()
            sys.exit(f"perf: registry did not start ({line!r})")
        self.address = line.split(" ", 1)[1]
        with open(self.info_path) as f:
            self.info = json.load(f)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def make_image(bins, out, size, layers, tag="1", compressible=False, seed=None):
    """A synthetic image of `size` bytes over `layers` layers, random (incompressible) or, with `compressible`,
    log-like text, from `seed` when given (distinct images need distinct seeds); built once per `out`. Returns its
    BuiltImage JSON."""
    marker = os.path.join(out, "built-image.json")
    if not os.path.exists(marker):
        args = [bins.testkit, "image", "--out", out, "--tag", tag, "--size", str(size), "--layers", str(layers)]
        if compressible:
            args.append("--compressible")
        if seed is not None:
            args += ["--seed", str(seed)]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    with open(marker) as f:
        return json.load(f)


def seed(bins, layout, url):
    subprocess.run([bins.testkit, "seed", "--layout", layout, "--to", url, "--jobs", "8"], check=True, stdout=subprocess.DEVNULL)


def timed(argv, env=None, cwd=None):
    """Runs argv after a sync (see above); returns (seconds, peak RSS bytes, exit status). Peak RSS comes from wait4
    for that child alone."""
    os.sync()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    stderr_chunks = []
    reader = threading.Thread(target=lambda: stderr_chunks.append(proc.stderr.read()))
    reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write(f"perf: {' '.join(argv)} exited {proc.returncode}:\n{b''.join(stderr_chunks).decode(errors='replace')[-2000:]}\n")
    return elapsed, usage.ru_maxrss * 1024, proc.returncode


def parallel_curl(urls, dest_dir, parallel=8):
    """The machine's ceiling for a case: plain parallel curl of the same blobs to the same disk, after a sync."""
    os.makedirs(dest_dir, exist_ok=True)
    os.sync()
    start = time.perf_counter()
    # `parallel` workers, each waiting in its own thread for its curl: a slot is refilled the moment its transfer ends,
    # and nothing polls (os.wait() would also reap the registry this harness started).
    def fetch(job):
        i, url = job
        return subprocess.run(["curl", "-sfS", "-o", os.path.join(dest_dir, f"b{i}"), url]).returncode
    with concurrent.futures.ThreadPoolExecutor(max_workers=parallel) as pool:
        if any(rc != 0 for rc in pool.map(fetch, enumerate(urls))):
            sys.exit("perf: curl failed for a blob")
    return time.perf_counter() - start


def summarize(samples):
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples), "runs": samples}


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    return path


def mbps(nbytes, seconds):
    return nbytes / seconds / 1e6 if seconds > 0 else 0.0


def machine():
    info = {"cpus": os.cpu_count()}
    try:
        with open("/proc/meminfo") as f:
            info["mem_kb"] = int(f.readline().split()[1])
    except OSError:
        pass
    return info


def workdir():
    base = os.environ.get("FERRY_PERF_DIR") or os.path.join(tempfile.gettempdir(), "ferry-perf")
    os.makedirs(base, exist_ok=True)
    return base


def finish(case, out, path=None):
    """Writes a case's JSON to perf/results/CASE.json (or `path`), prints where, and returns the exit status:
    0 when every target in out["targets_met"] holds."""
    path = path or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", f"{case}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
    print(f"  JSON: {path}")
    return 0 if all(out["targets_met"].values()) else 1
