#!/usr/bin/env bash
# Times palisade and checkov side by side and writes the table to docs/benchmarks.md.
#
#   bench/compare.sh [--quick] [CORPUS]
#
# CORPUS defaults to ../shared/corpus (relative to the repository root). The full run installs
# checkov into target/checkov-venv when missing, builds palisade in release mode, generates the
# synthetic streams (1k, 10k, 100k objects, seed 1) and times every case: median of 3 runs
# (10 for short ones). --quick runs each case once on small inputs (100 and 1k objects),
# without checkov, and only prints the table: a smoke test for CI.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

quick=0
corpus=../shared/corpus
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) corpus=$arg ;;
  esac
done
if [ ! -d "$corpus" ]; then
  echo "compare.sh: corpus directory $corpus not found" >&2
  exit 2
fi
corpus=$(cd "$corpus" && pwd)

if [ ! -x /usr/bin/time ]; then
  apt-get install -y time >/dev/null || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
fi

# checkov only: do not fetch guidelines from the vendor's service (no network here).
export BC_SKIP_MAPPING=TRUE
venv=target/checkov-venv
if [ "$quick" = 0 ] && [ ! -x "$venv/bin/checkov" ]; then
  echo "installing checkov into $venv ..." >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet checkov
fi

echo "building palisade (release) ..." >&2
cargo build --release --quiet -p palisade -p palisade-bench --bins
bin=target/release

work=target/bench
mkdir -p "$work"
if [ "$quick" = 1 ]; then sizes="100 1000"; else sizes="1000 10000 100000"; fi
cases=()
cases+=(--case "corpus=$corpus")
largest="$corpus/argo-cd/manifests/ha/install.yaml"
[ -f "$largest" ] && cases+=(--case "largest-file=$largest")
single="$corpus/kube-prometheus/manifests/blackboxExporter-deployment.yaml"
[ -f "$single" ] && cases+=(--case "one-object=$single")
for n in $sizes; do
  file="$work/synthetic-$n.yaml"
  [ -f "$file" ] || "$bin/gen-manifests" "$n" --seed 1 -o "$file"
  cases+=(--case "synthetic-$n=$file")
done

# PyYAML's C loader for the parse-only reference: the venv's (checkov depends on PyYAML),
# else the system's when it has libyaml bindings.
pyyaml=()
for py in "$venv/bin/python" python3; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import yaml; yaml.CSafeLoader' 2>/dev/null; then
    pyyaml=(--pyyaml-python "$py")
    break
  fi
done

args=(--palisade "$bin/palisade" --loader-speed "$bin/loader-speed" --workdir "$work/out")
if [ "$quick" = 1 ]; then
  args+=(--runs 1)
else
  args+=(--runs 3 --checkov "$root/$venv/bin/checkov" --doc docs/benchmarks.md)
fi
python3 bench/harness.py "${args[@]}" "${pyyaml[@]}" "${cases[@]}"
