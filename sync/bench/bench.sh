#!/usr/bin/env bash
# Benchmark of gizmo sync against the emulator on loopback (make bench runs it
# with GIZMO set to the freshly built binary). It prints:
#   - requests sent by the first sync / the minimum (ceil(N/100) list + R get
#     + R*F export + R*F download, N assets listed, R of them ready); goal 1.00
#   - wall time of the first sync / wall time of curl --parallel downloading
#     the same files (URLs from the export endpoint) at the same concurrency
#     in the same run: the physical-limit baseline; goal <= 1.3
#   - the protocol floor: the same requests as the sync from a plain Go
#     client that keeps nothing (sync/bench/floor), timed in the same run:
#     what the protocol costs before gizmo does any work of its own
#   - wall time and requests of a no-op resync
#   - peak memory (max RSS) of the first sync
#
# The work folder is made with mktemp -d, so TMPDIR picks the file system
# measured (its files are deleted at the end: see the note on ext4 below).
#
# Knobs (environment): GIZMO (binary, default: gizmo on PATH),
# GIZMO_BENCH_ASSETS (seeded assets, default 1334: 1,000 of them ready),
# GIZMO_BENCH_CONCURRENCY (default 8), GIZMO_BENCH_SYNC_FLAGS (extra flags
# for gizmo sync, e.g. --no-validate).
set -euo pipefail

GIZMO=${GIZMO:-gizmo}
SEEDED=${GIZMO_BENCH_ASSETS:-1334}
CONC=${GIZMO_BENCH_CONCURRENCY:-8}
SYNC_FLAGS=${GIZMO_BENCH_SYNC_FLAGS:-}
KEY=bench-key

for tool in curl jq; do
	command -v "$tool" >/dev/null || { echo "bench.sh: $tool is not installed: skipped"; exit 0; }
done

work=$(mktemp -d)
emu_pid=
cleanup() {
	if [ -n "$emu_pid" ]; then kill "$emu_pid" 2>/dev/null || true; wait "$emu_pid" 2>/dev/null || true; fi
	chmod -R u+w "$work" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

"$GIZMO" emulator --api alpha --addr 127.0.0.1:0 --assets "$SEEDED" --api-key "$KEY" --settle-seeded=false >"$work/emu.out" 2>"$work/emu.err" &
emu_pid=$!
for _ in $(seq 100); do
	[ -s "$work/emu.out" ] && break
	sleep 0.1
done
URL=$(head -n1 "$work/emu.out")
[ -n "$URL" ] || { echo "bench.sh: the emulator did not start:"; cat "$work/emu.err"; exit 1; }
export GIZMO_API_URL=$URL GIZMO_API_KEY=$KEY

now() { date +%s.%N; }
# CPU seconds (user + system) the emulator has used so far: on loopback it
# shares the machine's cores with the client being measured.
emucpu() {
	if [ -r "/proc/$emu_pid/stat" ]; then
		awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$emu_pid/stat"
	else echo 0; fi
}
stats() { curl -sf "$URL/_emulator/stats"; }
# total requests in a stats document
reqs() { jq '.list.requests + .get.requests + .create.requests + .export.requests + .download.requests'; }

# The account: every page, to count assets and ready ones.
: >"$work/assets.jsonl"
offset=0
while :; do
	page=$(curl -sf -H "Authorization: Bearer $KEY" "$URL/assets?limit=100&offset=$offset")
	n=$(jq '.assets | length' <<<"$page")
	total=$(jq '.total' <<<"$page")
	jq -c '.assets[]' <<<"$page" >>"$work/assets.jsonl"
	offset=$((offset + n))
	{ [ "$n" -eq 0 ] || [ "$offset" -ge "$total" ]; } && break
done
N=$(wc -l <"$work/assets.jsonl")
jq -r 'select(.status == "ready") | .id' "$work/assets.jsonl" >"$work/ready.txt"
R=$(wc -l <"$work/ready.txt")
F=3
FORMATS="isaac_sim_usd isaac_sim_urdf mujoco_mjcf"

# Download URLs from the export endpoint, in one curl run.
mkdir -p "$work/exp" "$work/curl"
{
	sep=
	while read -r id; do
		for f in $FORMATS; do
			printf '%surl = "%s/assets/%s/export"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata = "{\\"format\\":\\"%s\\"}"\noutput = "%s/exp/%s.%s.json"\n' \
				"$sep" "$URL" "$id" "$KEY" "$f" "$work" "$id" "$f"
			sep=$'next\n'
		done
	done <"$work/ready.txt"
} >"$work/export.cfg"
curl -sSf --parallel --parallel-max "$CONC" --config "$work/export.cfg" 2>>"$work/curl.err"
jq -r '"url = \"" + .download_url + "\"\noutput = \"'"$work"'/curl/" + (input_filename | split("/") | last | sub(".json$"; "")) + "\""' "$work"/exp/*.json >"$work/download.cfg"

# Warm the emulator's export generator, then time curl on warm bodies. The
# warm-up's files are moved aside, not deleted: on ext4 without a journal,
# an inode freed in the last 60 s (360 s while its inode table block is
# dirty) is skipped when allocating (find_inode_bit -> recently_deleted),
# so deleting 3,000 files here would make every file created next (curl's
# and the sync's) pay a scan over them. For the same reason, runs of this
# script on such a file system should be some minutes apart: each deletes
# its files at the end.
#
# Before each timed run, sync(1) writes what the previous steps left dirty:
# otherwise the sync's first flush (syncfs) would write curl's files too.
curl -sSf --parallel --parallel-max "$CONC" --config "$work/download.cfg" 2>>"$work/curl.err"
mv "$work/curl" "$work/curl-warm" && mkdir -p "$work/curl"
sync
curltime=()
if [ -x /usr/bin/time ]; then curltime=(/usr/bin/time -f '%U %S' -o "$work/curl.cpu"); fi
e0=$(emucpu)
t0=$(now)
"${curltime[@]}" curl -sSf --parallel --parallel-max "$CONC" --config "$work/download.cfg" 2>>"$work/curl.err"
t1=$(now)
emu_curl=$(echo "$(emucpu) - $e0" | bc -l)
curl_s=$(echo "$t1 - $t0" | bc -l)

# The protocol floor: the same list, get, export and download requests as
# the sync, at the same concurrency, from a plain Go client that keeps,
# checks and flushes nothing (sync/bench/floor). Skipped without go.
floor_s= floor_cpu= emu_floor=
if command -v go >/dev/null && (cd "$(dirname "$0")/floor" && go build -o "$work/floor.bin" .) 2>>"$work/floor.err"; then
	mkdir -p "$work/floor"
	sync
	floortime=()
	if [ -x /usr/bin/time ]; then floortime=(/usr/bin/time -f '%U %S' -o "$work/floor.cpu"); fi
	e0=$(emucpu)
	t0=$(now)
	"${floortime[@]}" "$work/floor.bin" "$CONC" "$work/floor" 2>>"$work/floor.err" || {
		echo "bench.sh: the protocol floor failed:"; cat "$work/floor.err"; exit 1; }
	t1=$(now)
	emu_floor=$(echo "$(emucpu) - $e0" | bc -l)
	floor_s=$(echo "$t1 - $t0" | bc -l)
	if [ -s "$work/floor.cpu" ]; then read -r fu fs < <(tail -n1 "$work/floor.cpu"); floor_cpu="${fu}s user + ${fs}s sys"; fi
fi

# The first sync.
sync
s0=$(stats)
timefmt=()
if [ -x /usr/bin/time ]; then timefmt=(/usr/bin/time -f '%U %S %M' -o "$work/rss"); fi
e0=$(emucpu)
t0=$(now)
# shellcheck disable=SC2086
"${timefmt[@]}" "$GIZMO" --cache-dir "$work/cache" sync --concurrency "$CONC" $SYNC_FLAGS >"$work/sync1.out" 2>&1 || {
	echo "bench.sh: the first sync failed:"; tail -20 "$work/sync1.out"; exit 1; }
t1=$(now)
emu_sync=$(echo "$(emucpu) - $e0" | bc -l)
s1=$(stats)
first_s=$(echo "$t1 - $t0" | bc -l)
sent=$(( $(reqs <<<"$s1") - $(reqs <<<"$s0") ))
min=$(( (N + 99) / 100 + R + 2 * R * F ))
rss="n/a" cpu="n/a"
if [ -s "$work/rss" ]; then
	read -r u s m < <(tail -n1 "$work/rss")
	rss="$((m / 1024)) MiB"
	cpu="${u}s user + ${s}s sys"
	if [ -s "$work/curl.cpu" ]; then
		read -r cu cs < <(tail -n1 "$work/curl.cpu")
		cpu="$cpu (curl: ${cu}s user + ${cs}s sys)"
	fi
fi

# The no-op resync.
t0=$(now)
# shellcheck disable=SC2086
"$GIZMO" --cache-dir "$work/cache" sync --concurrency "$CONC" $SYNC_FLAGS >"$work/sync2.out" 2>&1
t1=$(now)
s2=$(stats)
noop_s=$(echo "$t1 - $t0" | bc -l)
noop_req=$(( $(reqs <<<"$s2") - $(reqs <<<"$s1") ))
noop_list=$(( $(jq .list.requests <<<"$s2") - $(jq .list.requests <<<"$s1") ))

printf 'gizmo sync benchmark: %d assets listed, %d ready, %d formats, %d files, concurrency %d %s\n' "$N" "$R" "$F" $((R * F)) "$CONC" "$SYNC_FLAGS"
printf '  first sync requests:  %d sent / %d minimum = %.2f (goal 1.00)\n' "$sent" "$min" "$(echo "$sent / $min" | bc -l)"
printf '  first sync wall time: %.2fs; curl --parallel: %.2fs; ratio %.2f (goal <= 1.3)\n' "$first_s" "$curl_s" "$(echo "$first_s / $curl_s" | bc -l)"
if [ -n "$floor_s" ]; then
	printf '  protocol floor (plain Go client, same requests, keeps nothing): %.2fs = %.2f x curl; first sync / floor: %.2f\n' \
		"$floor_s" "$(echo "$floor_s / $curl_s" | bc -l)" "$(echo "$first_s / $floor_s" | bc -l)"
	printf '    its CPU: %s; the emulator'"'"'s during it: %.2fs\n' "${floor_cpu:-n/a}" "$emu_floor"
else
	printf '  protocol floor: skipped (go is not installed)\n'
fi
printf '  no-op resync:         %.2fs, %d requests (%d list)\n' "$noop_s" "$noop_req" "$noop_list"
printf '  peak memory (max RSS) of the first sync: %s\n' "$rss"
printf '  CPU time of the first sync: %s; load average: %s\n' "$cpu" "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"
printf '  CPU time of the emulator (same cores): %.2fs during the first sync, %.2fs during curl\n' "$emu_sync" "$emu_curl"
