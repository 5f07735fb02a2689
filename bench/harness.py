#!/usr/bin/env python3
"""Times palisade and checkov on benchmark cases and writes a Markdown report.

Called by bench/compare.sh, which installs the tools and generates the inputs. Standard
library only. Wall time is measured around each process; peak memory is the larger of GNU
time's maximum RSS and the sampled sum of the RSS of every process in the tree (checkov
forks workers, whose memory GNU time alone does not add up).
"""

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

PAGE = os.sysconf("SC_PAGE_SIZE")
BEGIN = "<!-- compare.sh:begin -->"
END = "<!-- compare.sh:end -->"

PYYAML_PARSE = r"""
import json, sys, time, yaml
texts = [open(p, 'rb').read() for p in sys.argv[1:]]
start = time.perf_counter()
for t in texts:
    try:
        for _ in yaml.load_all(t, Loader=yaml.CSafeLoader):
            pass
    except yaml.YAMLError:
        pass
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def manifest_files(path):
    if os.path.isfile(path):
        return [path]
    found = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in sorted(files):
            if name.endswith((".yaml", ".yml", ".json")):
                found.append(os.path.join(root, name))
    return found


def children_map():
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        parents.setdefault(int(fields[1]), []).append(int(entry))
    return parents


def tree_rss(root):
    parents = children_map()
    total, stack = 0, list(parents.get(root, []))
    while stack:
        pid = stack.pop()
        stack.extend(parents.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except OSError:
            pass
    return total


def run_once(cmd, stdout_path, timeout, tree):
    """Runs cmd under GNU time; returns (wall seconds, peak RSS bytes, exit code). With `tree`,
    the RSS of the whole process tree is also sampled from /proc (for tools that start
    subprocesses); the sampler costs CPU, so single-process tools are measured by GNU time
    alone, which reports their peak exactly."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf, open(stdout_path, "wb") as out:
        full = ["/usr/bin/time", "-v", "-o", tf.name] + cmd
        start = time.perf_counter()
        proc = subprocess.Popen(
            full, stdout=out, stderr=subprocess.DEVNULL, start_new_session=True
        )
        peak, done = 0, threading.Event()

        def sample():
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss(proc.pid))
                done.wait(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        if tree:
            sampler.start()
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            done.set()
            return None, None, "timeout"
        wall = time.perf_counter() - start
        done.set()
        if tree:
            sampler.join()
        maxrss = 0
        for line in tf.read().splitlines():
            if "Maximum resident set size" in line:
                maxrss = int(line.split(":")[1]) * 1024
        return wall, max(peak, maxrss), code


def measure(cmd, out, runs, timeout, ok_codes=(0, 1), tree=False):
    """Median wall time over runs (10 runs when the first takes under half a second)."""
    walls, rsss, codes = [], [], set()
    target = runs
    while len(walls) < target:
        wall, rss, code = run_once(cmd, out, timeout, tree)
        if code == "timeout":
            return {"timeout": timeout, "runs": len(walls) + 1}
        walls.append(wall)
        rsss.append(rss)
        codes.add(code)
        if len(walls) == 1 and wall < 0.5 and runs > 1:
            target = max(runs, 10)
        if len(walls) == 1 and wall > 120:
            target = 1
    return {
        "wall": statistics.median(walls),
        "rss": max(rsss),
        "runs": len(walls),
        "codes": sorted(codes),
        "unexpected": sorted(c for c in codes if c not in ok_codes),
    }


def pyyaml_time(python, files, runs):
    samples = []
    for _ in range(runs):
        res = subprocess.run(
            [python, "-c", PYYAML_PARSE] + files, capture_output=True, text=True, check=True
        )
        samples.append(json.loads(res.stdout)["seconds"])
    return statistics.median(samples)


def fmt_s(x):
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} CPUs ({model}), {mem_kb / 1048576:.1f} GiB memory, "
        f"{platform.system()} {platform.release()}; 1-minute load average at start {load:.2f}"
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--palisade", required=True)
    ap.add_argument("--checkov")
    ap.add_argument("--pyyaml-python")
    ap.add_argument("--loader-speed")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=300, help="per palisade run, seconds")
    ap.add_argument("--checkov-timeout", type=float, default=600, help="per checkov run")
    ap.add_argument(
        "--variant",
        action="append",
        default=[],
        help="LABEL=ARGS: an extra palisade row with these scan arguments on synthetic cases",
    )
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--doc")
    ap.add_argument("--case", action="append", required=True, help="NAME=PATH")
    args = ap.parse_args()

    os.makedirs(args.workdir, exist_ok=True)
    pal_version = subprocess.run(
        [args.palisade, "--version"], capture_output=True, text=True
    ).stdout.strip()
    chk_version = None
    if args.checkov:
        chk_version = "checkov " + subprocess.run(
            [args.checkov, "--version"], capture_output=True, text=True
        ).stdout.strip()
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    host = machine()

    rows = []
    for spec in args.case:
        name, path = spec.split("=", 1)
        files = manifest_files(path)
        size = sum(os.path.getsize(f) for f in files)
        out = os.path.join(args.workdir, f"{name}.palisade.json")
        print(f"[{name}] palisade ...", file=sys.stderr, flush=True)
        pal = measure(
            [args.palisade, "scan", "--no-config", "-f", "json", "-o", out, path],
            os.devnull,
            args.runs,
            args.timeout,
            ok_codes=(0, 1, 2),
        )
        summary = {}
        if "wall" in pal:
            with open(out) as f:
                summary = json.load(f)["summary"]
        row = {"name": name, "path": path, "bytes": size, "files": len(files), "pal": pal,
               "summary": summary, "variants": []}
        for variant in args.variant if name.startswith("synthetic-") else []:
            label, extra = variant.split("=", 1)
            print(f"[{name}] palisade {label} ...", file=sys.stderr, flush=True)
            vout = os.path.join(args.workdir, f"{name}.variant.json")
            m = measure(
                [args.palisade, "scan", "--no-config", *extra.split(), "-f", "json", "-o", vout,
                 path],
                os.devnull,
                args.runs,
                args.timeout,
                ok_codes=(0, 1, 2),
            )
            if "wall" in m:
                with open(vout) as f:
                    summary = summary or json.load(f)["summary"]
                row["summary"] = summary
            row["variants"].append((f"palisade {label}", m))
        if args.checkov:
            print(f"[{name}] checkov ...", file=sys.stderr, flush=True)
            mode = "-d" if os.path.isdir(path) else "-f"
            row["chk"] = measure(
                [args.checkov, mode, path, "--framework", "kubernetes", "-o", "json", "--quiet",
                 "--skip-download"],
                os.path.join(args.workdir, f"{name}.checkov.json"),
                args.runs,
                args.checkov_timeout,
                tree=True,
            )
        if args.pyyaml_python:
            print(f"[{name}] PyYAML CSafeLoader ...", file=sys.stderr, flush=True)
            row["pyyaml"] = pyyaml_time(args.pyyaml_python, files, 3 if args.runs > 1 else 1)
        if args.loader_speed:
            res = subprocess.run(
                [args.loader_speed, "--runs", "5" if args.runs > 1 else "1", path],
                capture_output=True, text=True, check=True,
            )
            row["loader"] = json.loads(res.stdout)
        rows.append(row)

    report = render(rows, started, host, pal_version, chk_version, args.runs)
    print(report)
    if args.doc:
        write_doc(args.doc, report)


def tool_cells(m, objects, size):
    if "timeout" in m:
        return f"> {m['timeout']:.0f} (timed out)", "", "", "", str(m["runs"])
    wall = m["wall"]
    note = f" (exit {m['unexpected']})" if m["unexpected"] else ""
    return (
        fmt_s(wall) + note,
        f"{objects / wall:,.0f}",
        f"{size / 1e6 / wall:.1f}",
        f"{m['rss'] / 1048576:.0f}",
        str(m["runs"]),
    )


def render(rows, started, host, pal_version, chk_version, runs):
    lines = [
        f"Run: {started}. Machine: {host}.",
        f"Versions: {pal_version}; {chk_version or 'checkov not run'}.",
        "",
        "| case | files | MB | objects | tool | runs | wall s (median) | objects/s | MB/s "
        "| peak RSS MiB |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        objects = r["summary"].get("objects", 0)
        mb = f"{r['bytes'] / 1e6:.2f}"
        tools = [("palisade", r["pal"])] + r["variants"]
        if "chk" in r:
            tools.append(("checkov", r["chk"]))
        for tool, m in tools:
            wall, ops, mbs, rss, n = tool_cells(m, objects, r["bytes"])
            lines.append(
                f"| {r['name']} | {r['files']} | {mb} | {objects:,} | {tool} | {n} | {wall} "
                f"| {ops} | {mbs} | {rss} |"
            )
    lines += [
        "",
        "| case | checkov ÷ palisade time | checkov ÷ palisade peak RSS | PyYAML CSafeLoader "
        "parse s | palisade ÷ PyYAML parse | raw parser s | loader s | loader ÷ raw parser |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        pal, chk = r["pal"], r.get("chk")
        cells = []
        if chk and "wall" in chk and "wall" in pal:
            cells += [f"{chk['wall'] / pal['wall']:.1f}×", f"{chk['rss'] / pal['rss']:.1f}×"]
        elif chk and "timeout" in chk and "wall" in pal:
            cells += [f"> {chk['timeout'] / pal['wall']:.0f}×", "n/a"]
        else:
            cells += ["n/a", "n/a"]
        if "pyyaml" in r:
            ratio = f"{pal['wall'] / r['pyyaml']:.2f}" if "wall" in pal else "n/a"
            cells += [fmt_s(r["pyyaml"]), ratio]
        else:
            cells += ["n/a", "n/a"]
        if "loader" in r:
            ld = r["loader"]
            cells += [
                fmt_s(ld["raw_parser_s"]),
                fmt_s(ld["loader_s"]),
                f"{ld['loader_s'] / ld['raw_parser_s']:.2f}",
            ]
        else:
            cells += ["n/a"] * 3
        lines.append(f"| {r['name']} | " + " | ".join(cells) + " |")

    synth = [r for r in rows if r["name"].startswith("synthetic-")]
    series = {}
    for r in synth:
        for label, m in [("palisade", r["pal"])] + r["variants"]:
            if "wall" in m:
                series.setdefault(label, []).append((r, m))
    scaling = []
    for label, points in series.items():
        for (a, ma), (b, mb) in zip(points, points[1:]):
            oa = a["summary"].get("objects", 1) or 1
            ob = b["summary"].get("objects", 1) or 1
            scaling.append(
                f"| {label} | {a['name']} → {b['name']} | {ob / oa:.1f} | "
                f"{mb['wall'] / ma['wall']:.1f} | {mb['rss'] / ma['rss']:.1f} |"
            )
    if scaling:
        lines += [
            "",
            "Scaling on the synthetic streams (each step relative to the previous size):",
            "",
            "| tool | from → to | objects × | time × | peak RSS × |",
            "| --- | --- | ---: | ---: | ---: |",
        ] + scaling
    lines += [
        "",
        f"Wall time is the median of {runs} runs (10 when a run takes under 0.5 s; 1 when it "
        "takes over 2 minutes), measured around the process and including start-up and "
        "writing the JSON report. Peak RSS is the largest over the runs: of the palisade process "
        "(GNU time), and of checkov's whole process tree (sampled from /proc every 20 ms). "
        "PyYAML parse time is measured inside Python (no interpreter start-up), "
        "`yaml.load_all` with `CSafeLoader` over the same files. Raw parser and loader times "
        "are from `loader-speed` (single thread, in memory, median of 5).",
    ]
    return "\n".join(lines)


def write_doc(path, report):
    block = f"{BEGIN}\n{report}\n{END}"
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
