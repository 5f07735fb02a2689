#!/usr/bin/env bash
# Times two palisade binaries side by side, runs interleaved, on the corpus (with the default
# rules, and with POL001 ignored) and on the 100k-object synthetic stream, with
# PyYAML's CSafeLoader parse of the corpus files in the same run. Prints one Markdown table:
# median wall time, mean user and system CPU time, largest peak RSS.
#
#   bench/side-by-side.sh BASE_BIN HEAD_BIN [RUNS] [CORPUS]
#
# RUNS defaults to 5 (the 100k stream runs at most 3 times), CORPUS to ../shared/corpus. The
# stream is STREAM when set, else target/bench/synthetic-100000.yaml, generated with HEAD's
# directory's gen-manifests when missing (seed 1). Needs GNU time at /usr/bin/time and python3
# with PyYAML built against libyaml. With CHECKOV set to a checkov executable (bench/compare.sh
# installs one in target/checkov-venv), checkov scans the corpus once in the same run, as
# bench/harness.py runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: bench/side-by-side.sh BASE_BIN HEAD_BIN [RUNS] [CORPUS]}
head=${2:?usage: bench/side-by-side.sh BASE_BIN HEAD_BIN [RUNS] [CORPUS]}
runs=${3:-5}
corpus=${4:-../shared/corpus}
stream=${STREAM:-target/bench/synthetic-100000.yaml}
if [ ! -f "$stream" ]; then
  mkdir -p target/bench
  "$(dirname "$head")/gen-manifests" 100000 --seed 1 -o "$stream"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
limits=(--max-file-nodes 50000000 --max-run-nodes 50000000)

# One timed run: appends "wall user sys maxrss_kb" to $work/<name>.
timed() {
  local name=$1
  shift
  /usr/bin/time -a -o "$work/$name" -f "%e %U %S %M" "$@" > /dev/null 2>&1 || true
}

stream_runs=$((runs < 3 ? runs : 3))
for i in $(seq "$runs"); do
  for side in base head; do
    bin=${!side}
    timed "corpus-$side" "$bin" scan --no-config -f json -o "$work/corpus-$side.json" \
      --ignore POL001 "$corpus"
    timed "default-$side" "$bin" scan --no-config -f json -o "$work/default-$side.json" \
      "$corpus"
  done
done
for i in $(seq "$stream_runs"); do
  for side in base head; do
    bin=${!side}
    timed "stream-$side" "$bin" scan --no-config -f json -o "$work/stream-$side.json" \
      "${limits[@]}" "$stream"
  done
done
pyyaml=$(find "$corpus" -path '*/.*' -prune -o -path '*/_*' -prune -o -type f \
  \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) -print0 | xargs -0 python3 -c '
import sys, time, yaml
texts = [open(p, "rb").read() for p in sys.argv[1:]]
best = None
for _ in range(3):
    wall, cpu = time.perf_counter(), time.process_time()
    for t in texts:
        try:
            for _ in yaml.load_all(t, Loader=yaml.CSafeLoader):
                pass
        except yaml.YAMLError:
            pass
    run = (time.perf_counter() - wall, time.process_time() - cpu)
    best = run if best is None or run[1] < best[1] else best
print("%.3f %.3f" % best)
')

echo "| case | binary | runs | wall s (median) | user s (mean) | sys s (mean) | peak RSS MiB |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
for case in corpus default stream; do
  for side in base head; do
    # GNU time adds a line for a non-zero exit status (input errors in the corpus give 2).
    grep -v '^Command' "$work/$case-$side" | sort -n | awk -v c="$case" -v s="$side" '
      { w[NR] = $1; u += $2; y += $3; if ($4 > m) m = $4 }
      END { printf "| %s | %s | %d | %.2f | %.2f | %.2f | %.0f |\n",
            (c == "corpus" ? "corpus, --ignore POL001" : c == "default" ? "corpus, default rules" : c), s, NR, w[int((NR + 1) / 2)], u / NR, y / NR, m / 1024 }'
  done
done
if [ -n "${CHECKOV:-}" ]; then
  BC_SKIP_MAPPING=TRUE timed checkov "$CHECKOV" -d "$corpus" --framework kubernetes -o json \
    --quiet --skip-download
fi
read -r py_wall py_cpu <<< "$pyyaml"
echo "| corpus | PyYAML CSafeLoader parse (fastest of 3, in Python) | 3 | $py_wall | $py_cpu (CPU) | | |"
if [ -n "${CHECKOV:-}" ]; then
  grep -v '^Command' "$work/checkov" | awk '{ printf "| corpus | checkov (one run) | 1 | %.2f | %.2f | %.2f | %.0f |\n",
    $1, $2, $3, $4 / 1024 }'
fi
for case in corpus default stream; do
  if cmp -s "$work/$case-base.json" "$work/$case-head.json"; then
    echo "$case: reports identical ($(wc -c < "$work/$case-head.json") bytes)"
  else
    echo "$case: reports DIFFERENT"
  fi
done
