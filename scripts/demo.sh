#!/usr/bin/env bash
# make demo: the main job end to end on local registries.
# A "public" registry is seeded with a synthetic multi-arch image; Ferry inspects it, copies the whole index into
# an OCI layout, verifies it, and skopeo (the independent reader) pushes the layout to a "private" TLS registry
# with basic auth, where the manifest digest is unchanged.
set -euo pipefail
BIN=${1:?usage: demo.sh BIN_DIR}
FERRY="$BIN/ferry"
TESTKIT="$BIN/ferry-testkit"
WORK=$(mktemp -d /tmp/ferry-demo.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
start_registry() { # name variant [user]
    local name=$1 variant=$2 user=${3:-}
    "$TESTKIT" registry --variant "$variant" ${user:+--user "$user"} --info "$WORK/$name.json" > "$WORK/$name.out" 2>"$WORK/$name.err" &
    PIDS+=($!)
    for _ in $(seq 1 100); do grep -q '^listening' "$WORK/$name.out" 2>/dev/null && break; sleep 0.1; done
    grep '^listening' "$WORK/$name.out" | cut -d' ' -f2
}

step "starting a public registry (plain HTTP) and a private one (HTTPS, private CA, basic auth)"
PUBLIC=$(start_registry public http)
PRIVATE=$(start_registry private https-basic "airgap:demo-password")
CA=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['caCert'])" "$WORK/private.json")
echo "public:  http://$PUBLIC"
echo "private: https://$PRIVATE (CA $CA)"

step "seeding $PUBLIC/demo/keycloak:26.2.4 (linux/amd64 + linux/arm64 + attestation, 64 MiB)"
"$TESTKIT" image --out "$WORK/src" --tag 26.2.4 --size 64MiB --layers 6 --platforms linux/amd64,linux/arm64 --attestation >/dev/null
"$TESTKIT" seed --layout "$WORK/src" --to "http://$PUBLIC/demo/keycloak:26.2.4" >/dev/null

step "ferry inspect $PUBLIC/demo/keycloak:26.2.4"
"$FERRY" inspect "$PUBLIC/demo/keycloak:26.2.4"

step "ferry copy docker://$PUBLIC/demo/keycloak:26.2.4 oci:$WORK/layout"
DIGEST=$("$FERRY" copy --progress plain "docker://$PUBLIC/demo/keycloak:26.2.4" "oci:$WORK/layout")
echo "manifest digest: $DIGEST"

step "the layout"
(cd "$WORK/layout" && find . -path ./.ferry -prune -o -type f -print | sort | sed 's/^/  /')
python3 -m json.tool "$WORK/layout/index.json"

step "every blob verifies (sha256 of its content is its name)"
bad=0
for f in "$WORK"/layout/blobs/sha256/*; do
    [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || { echo "MISMATCH $f"; bad=1; }
done
[ $bad = 0 ] && echo "  $(ls "$WORK/layout/blobs/sha256" | wc -l) blobs OK"

step "run again: nothing to fetch"
"$FERRY" copy "docker://$PUBLIC/demo/keycloak:26.2.4" "oci:$WORK/layout" >/dev/null

step "skopeo reads the layout and pushes it to the private registry"
mkdir -p "$WORK/certs" && cp "$CA" "$WORK/certs/ca.crt"  # skopeo trusts *.crt files in a cert dir
skopeo copy -q --all --dest-cert-dir "$WORK/certs" --dest-creds "airgap:demo-password" \
    "oci:$WORK/layout:$PUBLIC/demo/keycloak:26.2.4" "docker://$PRIVATE/airgap/keycloak:26.2.4"
PRIVATE_DIGEST=$("$FERRY" inspect --ca-cert "$CA" --creds "airgap:demo-password" --json "$PRIVATE/airgap/keycloak:26.2.4" | python3 -c "import json,sys; print(json.load(sys.stdin)['digest'])")
echo "private registry digest: $PRIVATE_DIGEST"
if [ "$PRIVATE_DIGEST" = "$DIGEST" ]; then echo "digests match: the image crossed unchanged"; else echo "DIGEST MISMATCH"; exit 1; fi
