#!/usr/bin/env bash
# Prints a release's krew manifest: deploy/krew/palisade.yaml with the version and the SHA-256
# of each platform's archive filled in.
#
#   deploy/krew/render.sh VERSION DIR > palisade.yaml
#
# DIR holds palisade-VERSION-<target>.tar.gz for every target the template names; a missing
# archive is an error, so a manifest never points at an archive that was not built.
set -euo pipefail
version=${1:?usage: deploy/krew/render.sh VERSION DIR}
dir=${2:?usage: deploy/krew/render.sh VERSION DIR}
template="$(dirname "$0")/palisade.yaml"
text=$(sed "s/@VERSION@/$version/g" "$template")
for target in $(grep -o '@SHA256_[^@]*@' "$template" | sed 's/@SHA256_\(.*\)@/\1/' | sort -u); do
  archive="$dir/palisade-$version-$target.tar.gz"
  [ -f "$archive" ] || { echo "render.sh: $archive is missing" >&2; exit 1; }
  sum=$(sha256sum "$archive" | cut -d' ' -f1)
  text=${text//@SHA256_$target@/$sum}
done
printf '%s\n' "$text"
