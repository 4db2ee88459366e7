#!/usr/bin/env bash
# Benchmark of gizmo sync over a network-like link: the emulator adds
# latency to every answer and serves large exports. make bench runs it with
# GIZMO set to the freshly built binary. In one run, side by side, it prints:
#   1. first sync of R ready assets x 3 formats at --latency 25ms, against a
#      two-phase curl --parallel --parallel-max 8 script that sends the same
#      export requests, then the downloads (goal: sync <= 0.8 x curl);
#   2. a SIZE export cut by SIGKILL at 90 %: bytes the server sent in all,
#      the kill's and the rerun's, over the export's size (goal <= 1.12);
#   3. peak RSS of a sync of ten SIZE exports (goal <= 64 MiB);
#   4. store throughput of one 1 GiB export from an unthrottled emulator,
#      against curl -o of the same URL (goal >= 0.8 x curl).
# Knobs: GIZMO, GIZMO_BENCH_NET_ASSETS (seeded, default 400: about 300
# ready), GIZMO_BENCH_NET_LATENCY (25ms), GIZMO_BENCH_BIG (300m),
# GIZMO_BENCH_HUGE (1g), GIZMO_BENCH_NET_PARTS (1,2,3,4: which to run).
set -euo pipefail

GIZMO=${GIZMO:-gizmo}
SEEDED=${GIZMO_BENCH_NET_ASSETS:-400}
LAT=${GIZMO_BENCH_NET_LATENCY:-25ms}
BIG=${GIZMO_BENCH_BIG:-300m}
HUGE=${GIZMO_BENCH_HUGE:-1g}
PARTS=${GIZMO_BENCH_NET_PARTS:-1,2,3,4}
KEY=bench-key
for tool in curl jq bc; do
	command -v "$tool" >/dev/null || { echo "network.sh: $tool is not installed: skipped"; exit 0; }
done

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	chmod -R u+w "$work" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
want() { [[ ",$PARTS," == *",$1,"* ]]; }

# emulator NAME ARGS...: starts one, sets URL.
emulator() {
	local name=$1
	shift
	"$GIZMO" emulator --api alpha --addr 127.0.0.1:0 --api-key "$KEY" --settle-seeded=false "$@" >"$work/$name.out" 2>"$work/$name.err" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$work/$name.out" ] && break; sleep 0.05; done
	URL=$(head -n1 "$work/$name.out")
	[ -n "$URL" ] || { echo "network.sh: the emulator did not start:"; cat "$work/$name.err"; exit 1; }
}
stats() { curl -sf "$URL/_emulator/stats"; }
ready_ids() {
	local offset=0 page n total
	while :; do
		page=$(curl -sf -H "Authorization: Bearer $KEY" "$URL/assets?limit=100&offset=$offset")
		jq -r '.assets[] | select(.status == "ready") | .id' <<<"$page"
		n=$(jq '.assets | length' <<<"$page"); total=$(jq '.total' <<<"$page")
		offset=$((offset + n))
		{ [ "$n" -eq 0 ] || [ "$offset" -ge "$total" ]; } && break
	done
}
# export_cfg FILE IDS FORMATS: a curl config POSTing every export.
export_cfg() {
	local sep= id f
	while read -r id; do
		for f in $3; do
			printf '%surl = "%s/assets/%s/export"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata = "{\\"format\\":\\"%s\\"}"\noutput = "%s/exp/%s.%s.json"\n' \
				"$sep" "$URL" "$id" "$KEY" "$f" "$work" "$id" "$f"
			sep=$'next\n'
		done
	done <"$2" >"$1"
}

echo "gizmo network benchmark ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"

if want 1; then
	emulator lat --assets "$SEEDED" --latency "$LAT"
	ready_ids >"$work/ready.txt"
	R=$(wc -l <"$work/ready.txt")
	mkdir -p "$work/exp" "$work/curl"
	export_cfg "$work/export.cfg" "$work/ready.txt" "isaac_sim_usd isaac_sim_urdf mujoco_mjcf"
	# Warm the emulator's generator (both sides then meet warm bodies).
	curl -sSf --no-progress-meter --parallel --parallel-max 8 --config "$work/export.cfg"
	jq -r '"url = \"" + .download_url + "\"\noutput = \"'"$work"'/curl/" + (input_filename | split("/") | last | sub(".json$"; "")) + "\""' "$work"/exp/*.json >"$work/download.cfg"
	curl -sSf --no-progress-meter --parallel --parallel-max 8 --config "$work/download.cfg"
	rm -rf "$work/exp" "$work/curl"; mkdir -p "$work/exp" "$work/curl"
	sync
	t0=$(now)
	curl -sSf --no-progress-meter --parallel --parallel-max 8 --config "$work/export.cfg"
	jq -r '"url = \"" + .download_url + "\"\noutput = \"'"$work"'/curl/" + (input_filename | split("/") | last | sub(".json$"; "")) + "\""' "$work"/exp/*.json >"$work/download.cfg"
	curl -sSf --no-progress-meter --parallel --parallel-max 8 --config "$work/download.cfg"
	t1=$(now)
	sync
	t2=$(now)
	GIZMO_API_URL=$URL GIZMO_API_KEY=$KEY "$GIZMO" --cache-dir "$work/cache1" sync >"$work/sync1.out" 2>&1 || { tail "$work/sync1.out"; exit 1; }
	t3=$(now)
	c=$(echo "$t1 - $t0" | bc -l); g=$(echo "$t3 - $t2" | bc -l)
	printf '1. first sync, %d assets x 3 formats, latency %s: gizmo %.2fs | two-phase curl --parallel-max 8 %.2fs | ratio %.2f (goal <= 0.8)\n' "$R" "$LAT" "$g" "$c" "$(echo "$g / $c" | bc -l)"
	kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
fi

if want 2; then
	emulator big --assets 0 --big-every 1 --big-size "$BIG" --slow 200m
	id=$(curl -sf -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"prompt":"A 6-DOF robotic arm","name":"big","tags":[],"status":"ready"}' "$URL/_emulator/assets" | jq -r .id)
	size=$(curl -sf -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"format":"mujoco_mjcf"}' "$URL/assets/$id/export" | jq -r .download_url | xargs curl -sfI | tr -d '\r' | awk 'tolower($1)=="content-length:" {print $2}')
	b0=$(stats | jq .download.bytes)
	GIZMO_API_URL=$URL GIZMO_API_KEY=$KEY "$GIZMO" -q --cache-dir "$work/cache2" sync --format mjcf >/dev/null 2>&1 &
	sp=$!
	while :; do
		held=$(find "$work/cache2/tmp" -name '*.part' -printf '%s\n' 2>/dev/null | sort -n | tail -1 || true)
		[ -n "$held" ] && [ "$held" -ge $((size * 9 / 10)) ] && break
		kill -0 $sp 2>/dev/null || break
		sleep 0.01
	done
	kill -9 $sp 2>/dev/null || true; wait $sp 2>/dev/null || true
	GIZMO_API_URL=$URL GIZMO_API_KEY=$KEY "$GIZMO" -q --cache-dir "$work/cache2" sync --format mjcf >/dev/null 2>&1
	b1=$(stats | jq .download.bytes)
	printf '2. a %s export killed at %d%%: the server sent %.3f x its size in all, the rerun %.1f%% of it (goal <= 1.12)\n' "$BIG" "$((held * 100 / size))" "$(echo "($b1 - $b0) / $size" | bc -l)" "$(echo "($b1 - $b0 - $held) * 100 / $size" | bc -l)"
	kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
fi

if want 3 && [ -x /usr/bin/time ]; then
	emulator ten --assets 0 --big-every 1 --big-size "$BIG"
	for i in $(seq 10); do
		curl -sf -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "{\"prompt\":\"A robotic arm number $i\",\"status\":\"ready\"}" "$URL/_emulator/assets" >/dev/null
	done
	GIZMO_API_URL=$URL GIZMO_API_KEY=$KEY /usr/bin/time -f '%M %e' -o "$work/rss3" "$GIZMO" -q --cache-dir "$work/cache3" sync --format mjcf >/dev/null 2>&1
	read -r m e <"$work/rss3"
	printf '3. sync of ten %s exports: peak RSS %d MiB in %.1fs (goal <= 64 MiB)\n' "$BIG" "$((m / 1024))" "$e"
	rm -rf "$work/cache3"
	kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
fi

if want 4; then
	emulator huge --assets 0 --big-every 1 --big-size "$HUGE"
	id=$(curl -sf -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"prompt":"A humanoid robot","status":"ready"}' "$URL/_emulator/assets" | jq -r .id)
	dl=$(curl -sf -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"format":"mujoco_mjcf"}' "$URL/assets/$id/export" | jq -r .download_url)
	curl -sf -o /dev/null "$dl" # the emulator computes the export's CRC and ETag once
	sync
	t0=$(now); curl -sf -o "$work/huge.zip" "$dl"; t1=$(now)
	rm -f "$work/huge.zip"; sync
	t2=$(now)
	GIZMO_API_URL=$URL GIZMO_API_KEY=$KEY "$GIZMO" -q --cache-dir "$work/cache4" sync --format mjcf >/dev/null 2>&1
	t3=$(now)
	c=$(echo "$t1 - $t0" | bc -l); g=$(echo "$t3 - $t2" | bc -l)
	printf '4. one %s export, unthrottled: gizmo sync %.2fs | curl -o %.2fs | throughput ratio %.2f (goal >= 0.8)\n' "$HUGE" "$g" "$c" "$(echo "$c / $g" | bc -l)"
fi
