#!/usr/bin/env bash
# Hostile inputs for gizmo validate and gizmo tree (make bench runs it with
# GIZMO set to the freshly built binary). For each case it prints the exit
# status, wall time, peak memory (max RSS), bytes printed and the longest
# line, and fails when a bound is broken:
#   - every case ends with its documented exit status;
#   - no printed line is longer than 4,096 bytes;
#   - peak memory stays under a bound per case (MiB, in the table below),
#     about 25 times the input for the large models, 100 MiB otherwise.
#
# Knobs (environment): GIZMO (binary, default: gizmo on PATH),
# GIZMO_BENCH_LINKS (links of the large URDF, default 2000000: 47 MB),
# GIZMO_BENCH_FILES (files in the large folder, default 10000).
set -euo pipefail

GIZMO=${GIZMO:-gizmo}
LINKS=${GIZMO_BENCH_LINKS:-2000000}
FILES=${GIZMO_BENCH_FILES:-10000}

for tool in python3 /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench_hostile.sh: $tool is not installed: skipped"; exit 0; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

python3 - "$LINKS" "$FILES" <<'EOF'
import os, sys
links, files = int(sys.argv[1]), int(sys.argv[2])
with open('links.urdf', 'w') as f:
    f.write('<robot name="r">\n')
    for i in range(links):
        f.write('<link name="l%07d"/>\n' % i)
    f.write('</robot>\n')
n = links // 4
with open('chain.urdf', 'w') as f:
    f.write('<robot name="r">\n')
    for i in range(n):
        f.write('<link name="l%d"/>\n' % i)
    for i in range(1, n):
        f.write('<joint name="j%d" type="fixed"><parent link="l%d"/><child link="l%d"/></joint>\n' % (i, i - 1, i))
    f.write('</robot>\n')
ent = '<!ENTITY lol "lol">\n'
prev = 'lol'
for i in range(1, 10):
    ent += '<!ENTITY lol%d "%s">\n' % (i, ('&%s;' % prev) * 10)
    prev = 'lol%d' % i
open('laughs.urdf', 'w').write('<?xml version="1.0"?>\n<!DOCTYPE robot [\n' + ent + ']>\n<robot name="&lol9;"><link name="a"/></robot>\n')
open('xxe.urdf', 'w').write('<!DOCTYPE robot [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<robot name="&x;"><link name="a"/></robot>\n')
open('deep.urdf', 'w').write('<robot name="r">' + '<a>' * 100000 + '</a>' * 100000 + '<link name="x"/></robot>')
open('attr.urdf', 'w').write('<robot name="' + 'x' * (100 << 20) + '"><link name="a"/></robot>')
open('nodes.urdf', 'w').write('<robot name="r"><link name="a"/>' + '<a/>' * 5000000 + '</robot>')
os.mkdir('many')
for i in range(files):
    d = 'many/d%03d' % (i // 1000)
    os.makedirs(d, exist_ok=True)
    if i % 100 == 0:
        open('%s/r%05d.urdf' % (d, i), 'w').write('<robot name="r"><link name="a"/></robot>')
    elif i % 10 == 0:
        open('%s/p%05d.xml' % (d, i), 'w').write('<package/>')
    else:
        open('%s/m%05d.stl' % (d, i), 'w').write('solid\nendsolid\n')
os.mkdir('empty')
os.mkfifo('pipe.urdf')
EOF

fail=0
printf '%-28s %5s %5s %8s %9s %9s %s\n' case want exit seconds "RSS MiB" "out KiB" "longest line"
# run NAME WANT_EXIT MAX_RSS_MIB ARGS...
run() {
	local name=$1 want=$2 maxrss=$3
	shift 3
	local code=0
	/usr/bin/time -f '%e %M' -o time.txt "$GIZMO" "$@" >out.txt 2>err.txt || code=$?
	local secs kb
	read -r secs kb < <(tail -n 1 time.txt)
	local longest
	longest=$(awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' out.txt err.txt)
	printf '%-28s %5s %5s %8s %9d %9d %d\n' "$name" "$want" "$code" "$secs" $((kb / 1024)) $(($(wc -c <out.txt) / 1024)) "$longest"
	if [ "$code" != "$want" ]; then echo "  FAIL: exit $code, want $want"; head -c 600 err.txt; fail=1; fi
	if [ $((kb / 1024)) -gt "$maxrss" ]; then echo "  FAIL: peak memory over $maxrss MiB"; fail=1; fi
	if [ "$longest" -gt 4096 ]; then echo "  FAIL: a line of $longest bytes"; fail=1; fi
}
size_mib() { echo $(($(stat -c %s "$1") / 1048576 + 1)); }

run "validate links.urdf" 4 $((25 * $(size_mib links.urdf) + 100)) validate links.urdf
run "validate chain.urdf" 0 $((25 * $(size_mib chain.urdf) + 100)) validate chain.urdf
run "tree chain.urdf" 0 $((25 * $(size_mib chain.urdf) + 100)) tree chain.urdf
run "tree --json chain.urdf" 1 $((25 * $(size_mib chain.urdf) + 100)) tree --json chain.urdf
run "validate laughs.urdf" 4 100 validate laughs.urdf
run "validate xxe.urdf" 4 100 validate xxe.urdf
run "validate deep.urdf" 4 100 validate deep.urdf
run "validate attr.urdf (100 MiB)" 4 $((3 * $(size_mib attr.urdf) + 100)) validate attr.urdf
run "validate nodes.urdf (5 M)" 4 800 validate nodes.urdf
run "validate many/ ($FILES files)" 0 100 validate many
run "validate empty/" 3 100 validate empty
run "validate pipe.urdf (FIFO)" 2 100 validate pipe.urdf
run "validate /dev/zero" 2 100 validate /dev/zero
exit $fail
