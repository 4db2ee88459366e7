#!/usr/bin/env bash
# Benchmark of gizmo prepare --from oci:// against the oras CLI (make bench runs
# it with GIZMO set to the freshly built binary). A publisher syncs N ready
# assets from the emulator (3 formats each), places them and pushes one bundle
# to Debian's docker-registry on loopback. Then, alternating, in the same run:
#   - gizmo prepare --from oci://... into an empty cache and an empty project
#     (fetch, digest checks, validation, store, place), with the Gizmo API URL
#     pointing at a closed port;
#   - oras pull of the same artifact into an empty folder (fetch and unpack);
#   - gizmo pull alone into an empty cache (the registry part of the above);
#   - oras pull, then a copy of what it wrote (cp -r) and sync(1): the least
#     file system work of a tool that keeps a cache and places a stand-alone
#     copy of every file in the project, durably, as gizmo does (every file
#     created twice, then flushed).
# It prints each run's wall time and the ratio of the medians (goal <= 1.5),
# and the ratio against oras pull followed by sync(1), since gizmo makes its
# files durable before it reports success and oras does not,
# and the requests the emulator counted while the nodes ran (goal 0: a fleet's
# requests to Gizmo are the publisher's, whatever its size).
#
# Knobs: GIZMO (binary), GIZMO_BENCH_OCI_ASSETS (seeded assets, default 48:
# about 40 ready), GIZMO_BENCH_OCI_RUNS (default 5), ORAS (default: oras on
# PATH or in $(go env GOPATH)/bin).
set -euo pipefail

GIZMO=${GIZMO:-gizmo}
SEEDED=${GIZMO_BENCH_OCI_ASSETS:-48}
RUNS=${GIZMO_BENCH_OCI_RUNS:-5}
ORAS=${ORAS:-$(command -v oras || echo "$(go env GOPATH 2>/dev/null)/bin/oras")}
for tool in docker-registry curl jq; do
	command -v "$tool" >/dev/null || { echo "bench_oci.sh: $tool is not installed: skipped"; exit 0; }
done
[ -x "$ORAS" ] || { echo "bench_oci.sh: oras is not installed (go install oras.land/oras/cmd/oras@v1.3.6): skipped"; exit 0; }

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	chmod -R u+w "$work" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

port=$(free_port)
cat >"$work/registry.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.05; done

"$GIZMO" emulator --addr 127.0.0.1:0 --assets "$SEEDED" --seed 7 >"$work/emu.out" 2>"$work/emu.log" &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$work/emu.out" ] && break; sleep 0.05; done
api=$(head -n1 "$work/emu.out")

export GIZMO_API_KEY=dev
mkdir -p "$work/pub"
printf '[assets]\nall = true\n\n[[target]]\nlayout = "mujoco"\ndir = "assets/mujoco"\n\n[[target]]\nlayout = "isaac"\ndir = "assets/isaac"\n' >"$work/pub/gizmo.toml"
cp "$work/pub/gizmo.toml" "$work/manifest.toml"
(cd "$work/pub" && GIZMO_API_URL=$api GIZMO_CACHE_DIR=$work/pubcache "$GIZMO" -q prepare >/dev/null)
ref=127.0.0.1:$port/bench/robots:v1
digest=$(cd "$work/pub" && GIZMO_API_URL=$api GIZMO_CACHE_DIR=$work/pubcache "$GIZMO" -q push "oci://$ref")
exports=$(grep -c '^\[\[asset\]\]' "$work/pub/gizmo.lock" || true)
echo "bundle $digest: $exports placed exports of $(jq -r '.assets' <(curl -s "$api/_emulator/stats")) assets"

before=$(curl -s "$api/_emulator/stats" | jq '[.list.requests,.get.requests,.create.requests,.export.requests,.download.requests]|add')
now() { date +%s.%N; }
g=(); o=(); od=(); p=(); oc=()
for i in $(seq 1 "$RUNS"); do
	rm -rf "$work/node" "$work/nodecache" "$work/oras" "$work/orascopy"
	mkdir -p "$work/node" "$work/oras"
	cp "$work/manifest.toml" "$work/node/gizmo.toml"
	sync
	t0=$(now)
	(cd "$work/node" && GIZMO_API_URL=http://127.0.0.1:1 GIZMO_CACHE_DIR=$work/nodecache "$GIZMO" -q prepare --from "oci://$ref" >/dev/null)
	t1=$(now)
	sync
	t2=$(now)
	"$ORAS" pull --plain-http -o "$work/oras" "$ref" >/dev/null
	t3=$(now)
	sync
	t4=$(now)
	rm -rf "$work/pullcache"
	sync
	t5=$(now)
	GIZMO_API_URL=http://127.0.0.1:1 GIZMO_CACHE_DIR=$work/pullcache "$GIZMO" -q pull "oci://$ref" >/dev/null
	t6=$(now)
	p+=("$(echo "$t6 - $t5" | bc)")
	rm -rf "$work/oras" "$work/orascopy"
	mkdir -p "$work/oras"
	sync
	t7=$(now)
	"$ORAS" pull --plain-http -o "$work/oras" "$ref" >/dev/null
	cp -r "$work/oras" "$work/orascopy"
	sync
	t8=$(now)
	oc+=("$(echo "$t8 - $t7" | bc)")
	g+=("$(echo "$t1 - $t0" | bc)"); o+=("$(echo "$t3 - $t2" | bc)"); od+=("$(echo "$t4 - $t2" | bc)")
	printf 'run %d: gizmo prepare --from %.3f s, gizmo pull %.3f s, oras pull %.3f s, oras pull + sync %.3f s, oras pull + cp -r + sync %.3f s\n' "$i" "${g[-1]}" "${p[-1]}" "${o[-1]}" "${od[-1]}" "${oc[-1]}"
done
after=$(curl -s "$api/_emulator/stats" | jq '[.list.requests,.get.requests,.create.requests,.export.requests,.download.requests]|add')
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mg=$(median "${g[@]}"); mo=$(median "${o[@]}"); mod=$(median "${od[@]}")
printf '\nmedian: gizmo prepare --from %.3f s | oras pull %.3f s | ratio %.2f (goal <= 1.5)\n' "$mg" "$mo" "$(echo "$mg / $mo" | bc -l)"
# gizmo makes what it stores and places durable (fsync, syncfs) before it
# reports success; oras does not. The second ratio gives oras the same.
printf 'median: oras pull + sync(1) %.3f s | ratio %.2f\n' "$mod" "$(echo "$mg / $mod" | bc -l)"
moc=$(median "${oc[@]}")
printf 'median: oras pull + cp -r + sync(1) %.3f s | ratio %.2f (the floor of a cache plus a project copy)\n' "$moc" "$(echo "$mg / $moc" | bc -l)"
mp=$(median "${p[@]}")
printf 'median: gizmo pull alone (fetch, digest checks, validation, store) %.3f s | %.2f x oras pull\n' "$mp" "$(echo "$mp / $mo" | bc -l)"
echo "requests to the Gizmo API while $RUNS nodes prepared: $((after - before)) (goal 0)"
