#!/usr/bin/env bash
# Checks that a change leaves palisade's findings alone: scans ../shared/corpus and the
# 100k-object synthetic stream (gen-manifests 100000 --seed 1) with the base revision and with
# the working tree, and compares the JSON reports byte for byte.
#
#   scripts/same-reports.sh BASE [CORPUS]
#
# BASE is any git revision. CORPUS defaults to ../shared/corpus. Exits 0 when every report is
# identical, 1 with a diff of the first differences otherwise. A refactoring must pass it; a
# change that corrects findings lists each difference with its fixture instead.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
base=${1:?usage: scripts/same-reports.sh BASE [CORPUS]}
corpus=${2:-../shared/corpus}
[ -d "$corpus" ] || { echo "same-reports.sh: corpus directory $corpus not found" >&2; exit 2; }
corpus=$(cd "$corpus" && pwd)

work=$root/target/same-reports
rm -rf "$work"
mkdir -p "$work"
git worktree add --quiet --detach "$work/base" "$base"
trap 'git worktree remove --force "$work/base"' EXIT

# The base builds in a target directory of its own (kept between runs): cargo names a workspace
# crate's artifacts without its path, so in a shared target one tree's build could stand for
# the other's.
echo "building $base (release) ..." >&2
(cd "$work/base" && CARGO_TARGET_DIR=$root/target/same-reports-base cargo build --release --quiet -p palisade)
cp target/same-reports-base/release/palisade "$work/palisade-base"
echo "building the working tree (release) ..." >&2
cargo build --release --quiet -p palisade -p palisade-bench --bins
cp target/release/palisade "$work/palisade-head"
target/release/gen-manifests 100000 --seed 1 -o "$work/synthetic-100000.yaml"

status=0
for side in base head; do
  # Paths are printed relative to the directory scanned: run from inside it.
  (cd "$corpus" && "$work/palisade-$side" scan --format json . > "$work/corpus-$side.json") || true
  (cd "$work" && "$work/palisade-$side" scan --format json --max-file-nodes 50000000 --max-run-nodes 50000000 synthetic-100000.yaml > "$work/synthetic-$side.json") || true
done
for report in corpus synthetic; do
  if cmp -s "$work/$report-base.json" "$work/$report-head.json"; then
    echo "$report: identical ($(wc -c < "$work/$report-head.json") bytes)"
  else
    echo "$report: DIFFERENT" >&2
    diff <(python3 -m json.tool "$work/$report-base.json") <(python3 -m json.tool "$work/$report-head.json") | head -40 >&2 || true
    status=1
  fi
done
exit $status
