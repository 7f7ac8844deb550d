#!/usr/bin/env bash
# make demo: the seeds' whole job on one machine, with real registries on loopback.
# A "public" registry holds small synthetic images named like the AKKO guide's list; a values file names them.
# Ferry finds the images, bundles them, verifies the bundle, loads it into a "private" TLS registry with basic auth
# under a namespace, writes the values overlay, and every image is pulled back from the private registry by digest.
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
trap "exit 130" INT TERM HUP PIPE

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
now() { date +%s.%N; }
took() { python3 -c "import sys; print('    (%.1f s)' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$(now)"; }
# Sets ADDR. Not called as $(start_registry …): a subshell would keep the PID to itself, and cleanup could not
# stop the registry.
start_registry() { # name variant [user]
    local name=$1 variant=$2 user=${3:-}
    "$TESTKIT" registry --variant "$variant" ${user:+--user "$user"} --info "$WORK/$name.json" > "$WORK/$name.out" 2>"$WORK/$name.err" &
    PIDS+=($!)
    for _ in $(seq 1 100); do grep -q '^listening' "$WORK/$name.out" 2>/dev/null && break; sleep 0.1; done
    ADDR=$(grep '^listening' "$WORK/$name.out" | cut -d' ' -f2)
}

step "starting a public registry (plain HTTP) and a private one (HTTPS with a private CA, basic auth)"
start_registry public http
PUBLIC=$ADDR
start_registry private https-basic "airgap:demo-password"
PRIVATE=$ADDR
CA=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['caCert'])" "$WORK/private.json")
PRIV=(--ca-cert "$CA" --creds "airgap:demo-password")
echo "public:  http://$PUBLIC"
echo "private: https://$PRIVATE"

step "seeding the public registry with images named like the AKKO guide's"
IMAGES=(
    "keycloak/keycloak:26.2.4:linux/amd64,linux/arm64"
    "apache/airflow:3.0.1:"
    "trinodb/trino:473:linux/amd64,linux/arm64"
    "minio/minio:RELEASE.2025-02-18T16-25-55Z:"
    "minio/mc:RELEASE.2025-02-15T09-18-34Z:"
    "jupyterhub/k8s-hub:4.1.0:"
    "akko-notebook:2026.04:"
    "akko-postgres:2026.04:"
)
i=0
for spec in "${IMAGES[@]}"; do
    repo=${spec%%:*}; rest=${spec#*:}; tag=${rest%%:*}; platforms=${rest#*:}
    i=$((i + 1))
    "$TESTKIT" image --out "$WORK/src$i" --tag "$tag" --size 12MiB --layers 3 --seed $i ${platforms:+--platforms "$platforms"} >/dev/null
    "$TESTKIT" seed --layout "$WORK/src$i" --to "http://$PUBLIC/$repo:$tag" >/dev/null
    echo "  $PUBLIC/$repo:$tag"
done

cat > "$WORK/values.yaml" <<YAML
global:
  imageRegistry: ""
akko-keycloak:
  image:
    registry: $PUBLIC
    repository: keycloak/keycloak
    tag: "26.2.4"
airflow:
  defaultAirflowRepository: $PUBLIC/apache/airflow
  defaultAirflowTag: "3.0.1"
trino:
  image:
    repository: $PUBLIC/trinodb/trino
    tag: "473"
minio:
  image:
    repository: $PUBLIC/minio/minio
    tag: RELEASE.2025-02-18T16-25-55Z
  mcImage:
    repository: $PUBLIC/minio/mc
    tag: RELEASE.2025-02-15T09-18-34Z
jupyterhub:
  hub:
    image:
      name: $PUBLIC/jupyterhub/k8s-hub
      tag: "4.1.0"
  singleuser:
    image:
      name: $PUBLIC/akko-notebook
      tag: "2026.04"
akko-postgres:
  image: $PUBLIC/akko-postgres:2026.04
YAML

step "ferry inspect and ferry copy of one multi-arch image into an OCI layout"
"$FERRY" inspect "$PUBLIC/keycloak/keycloak:26.2.4"
t=$(now); "$FERRY" copy --progress plain "docker://$PUBLIC/keycloak/keycloak:26.2.4" "oci:$WORK/layout" >/dev/null; took "$t"
python3 -m json.tool "$WORK/layout/index.json"
"$FERRY" verify "oci:$WORK/layout"

step "ferry images values.yaml   (what the chart needs)"
t=$(now); "$FERRY" images "$WORK/values.yaml" | tee "$WORK/images.txt"; took "$t"

step "ferry save -f images.txt -o akko-images.tar   (connected side)"
t=$(now); "$FERRY" save --progress plain -f "$WORK/images.txt" -o "$WORK/akko-images.tar" >/dev/null; took "$t"
ls -l "$WORK/akko-images.tar" "$WORK/akko-images.tar.ferry.json" | sed 's/^/  /'

step "ferry verify akko-images.tar   (after carrying it across)"
t=$(now); "$FERRY" verify "$WORK/akko-images.tar"; took "$t"

step "ferry load akko-images.tar --to $PRIVATE/akko --map map.json   (air-gapped side)"
t=$(now); "$FERRY" load "${PRIV[@]}" --progress plain "$WORK/akko-images.tar" --to "$PRIVATE/akko" --map "$WORK/map.json"; took "$t"

step "ferry rewrite values.yaml --to $PRIVATE/akko --map map.json   (the values overlay)"
"$FERRY" rewrite "$WORK/values.yaml" --to "$PRIVATE/akko" --map "$WORK/map.json" -o "$WORK/values-airgapped.yaml"
cat "$WORK/values-airgapped.yaml"

step "every image pulled back from the private registry by digest"
python3 - "$WORK/map.json" > "$WORK/pinned.txt" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1])):
    print(e["source"], e["target"].split("@")[0].rsplit(":", 1)[0] + "@" + e["digest"], e["digest"])
PY
fail=0
while read -r source pinned digest; do
    got=$("$FERRY" copy "${PRIV[@]}" --quiet "docker://$pinned" "oci:$WORK/pulled")
    if [ "$got" = "$digest" ]; then echo "  ok  $pinned"; else echo "  MISMATCH $pinned ($got)"; fail=1; fi
done < "$WORK/pinned.txt"
[ $fail = 0 ] && echo "all $(wc -l < "$WORK/pinned.txt") images arrived unchanged"
exit $fail
