#!/usr/bin/env bash
# bench-runsc.sh: runsc-netsandbox (--network=plugin) against stock runsc
# (--network=sandbox, gVisor's netstack, from the same binary) on the same
# veth, in one run.
#
# Two network namespaces this script creates, nsbx-<hex>-sbx (198.18.0.2)
# and nsbx-<hex>-peer (198.18.0.1), joined by one veth (MTU 1500). The
# peer runs an iperf3 server and a UDP echo server on the kernel; an OCI
# bundle (the host's / read-only, an in-memory overlay) whose network
# namespace is the sandbox one runs the clients inside runsc, once per stack
# per round, the order of the two stacks alternating between rounds. No
# other address is contacted and no host sysctl is written (the host's
# net.ipv4.ip_forward is checked before and after).
#
# Per stack and round: iperf3 TCP upload (sandbox -> peer) and download
# (-R), UDP upload and download at a fixed offered rate (-b, 1400-byte
# datagrams; received rate and loss), and a UDP request/response round trip
# (python3 in the sandbox, 32-byte datagrams, N round trips after a warm-up;
# median and p99). The markdown table holds per test the median of the
# rounds and their range.
#
# runsc-netsandbox is built from the working tree (CGO_ENABLED=0), with
# --head from the committed tree alone (git archive HEAD), or taken from
# --runsc. Needs root, iperf3, jq, python3 (/usr/bin/python3, seen by
# the sandbox through the read-only root). Not run by CI.
#
# Usage: scripts/bench-runsc.sh [-t SECONDS] [-r ROUNDS] [-b UDP_RATE]
#            [-n ROUND_TRIPS] [--runsc BINARY | --head] [--profile DIR] [--keep DIR]
#   --profile DIR: a CPU profile of each sandbox's sentry during its TCP
#   upload and one during its download (runsc debug --profile-cpu, up to
#   5 s each), DIR/<stack>-<round>.pprof and DIR/<stack>-<round>-down.pprof.
#   --keep DIR: each sandbox's output (iperf3's JSON) in DIR/out-<stack>-<round>.
#   --iperf3-args ARGS: more arguments for every iperf3 client (e.g. "-w 2M").
set -euo pipefail

secs=5
rounds=3
udprate=300M
rtts=5000
bin=""
profdir=""
keep=""
head=0
iperf3_args=""
while [ $# -gt 0 ]; do
	case "$1" in
	-t) secs=$2; shift 2 ;;
	-r) rounds=$2; shift 2 ;;
	-b) udprate=$2; shift 2 ;;
	-n) rtts=$2; shift 2 ;;
	--runsc) bin=$2; shift 2 ;;
	--profile) profdir=$(realpath "$2"); shift 2 ;;
	--keep) keep=$(realpath "$2"); shift 2 ;;
	--head) head=1; shift ;;
	--iperf3-args) iperf3_args=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-runsc: unknown argument $1" >&2; exit 2 ;;
	esac
done
case "$secs$rounds$rtts" in *[!0-9]*) echo "bench-runsc: -t, -r and -n take whole numbers" >&2; exit 2 ;; esac
[ "$secs" -ge 1 ] && [ "$secs" -le 60 ] && [ "$rounds" -ge 1 ] && [ "$rounds" -le 9 ] && [ "$rtts" -ge 100 ] && [ "$rtts" -le 100000 ] ||
	{ echo "bench-runsc: want -t 1..60, -r 1..9, -n 100..100000" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench-runsc: needs root (namespaces, runsc)" >&2; exit 1; }
for c in iperf3 jq ip nsenter /usr/bin/python3; do
	command -v "$c" >/dev/null || { echo "bench-runsc: $c not found" >&2; exit 1; }
done

log() { echo "bench-runsc: $*" >&2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
tag=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
tmp=$(mktemp -d "/tmp/nsbx-$tag-bench.XXXXXX")
sbx="nsbx-$tag-sbx"
peer="nsbx-$tag-peer"
vs="nsbx${tag:0:6}s"
vp="nsbx${tag:0:6}p"
sbxip=198.18.0.2
peerip=198.18.0.1
fwd_knob=/proc/sys/net/ipv4/ip_forward
fwd_before=$(cat "$fwd_knob")
pids=()
cids=()

cleanup() {
	local p c
	for c in "${cids[@]+"${cids[@]}"}"; do
		timeout 30 "$bin" --root="$tmp/state" delete -force "$c" >/dev/null 2>&1 || true
	done
	for _ in $(seq 100); do umount -l "$tmp/state/null-netns" 2>/dev/null || break; done
	for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]+"${pids[@]}"}"; do
		for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
	ip netns del "$sbx" 2>/dev/null || true
	ip netns del "$peer" 2>/dev/null || true
	rm -rf "$tmp"
	local fwd_after
	fwd_after=$(cat "$fwd_knob")
	if [ "$fwd_after" != "$fwd_before" ]; then
		echo "$fwd_before" >"$fwd_knob"
		log "WARNING: the host's net.ipv4.ip_forward changed from $fwd_before to $fwd_after during the run; restored to $fwd_before"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

commit=$(git -C "$repo" rev-parse --short HEAD)
dirty=$(git -C "$repo" status --porcelain --untracked-files=no | grep -q . && echo " (with uncommitted changes)" || true)
if [ -z "$bin" ] && [ "$head" = 1 ]; then
	log "building runsc-netsandbox from commit $commit"
	mkdir "$tmp/src"
	git -C "$repo" archive HEAD | tar -x -C "$tmp/src"
	(cd "$tmp/src" && CGO_ENABLED=0 go build -o "$tmp/runsc-netsandbox" ./cmd/runsc-netsandbox)
	bin=$tmp/runsc-netsandbox
	built="runsc-netsandbox at commit $commit"
elif [ -z "$bin" ]; then
	log "building runsc-netsandbox"
	(cd "$repo" && CGO_ENABLED=0 go build -o "$tmp/runsc-netsandbox" ./cmd/runsc-netsandbox)
	bin=$tmp/runsc-netsandbox
	built="runsc-netsandbox from the tree at $commit$dirty"
else
	built="runsc-netsandbox binary $bin (tree at $commit$dirty)"
fi

log "namespaces $sbx ($sbxip) and $peer ($peerip), veth $vs/$vp"
ip netns add "$sbx"
ip netns add "$peer"
ip link add "$vs" type veth peer name "$vp"
ip link set "$vs" netns "$sbx"
ip link set "$vp" netns "$peer"
ip -n "$sbx" link set lo up
ip -n "$peer" link set lo up
ip -n "$peer" addr add "$peerip/24" dev "$vp"
ip -n "$peer" link set "$vp" up
# Both stacks take the addresses off the kernel interface when a sandbox
# starts: give them back before each.
configure_sbx() {
	ip -n "$sbx" addr replace "$sbxip/24" dev "$vs"
	ip -n "$sbx" link set "$vs" up
}

total=$((rounds * 2 * (5 * secs + 60) + 120))
nsenter --net="/run/netns/$peer" timeout "$total" iperf3 -s -B "$peerip" -p 5201 >"$tmp/iperf3-server.log" 2>&1 &
pids+=($!)
nsenter --net="/run/netns/$peer" timeout "$total" /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("'"$peerip"'", 7))
while True:
    b, a = s.recvfrom(2048)
    s.sendto(b, a)
' >"$tmp/echo.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	nsenter --net="/run/netns/$peer" ss -ltn "sport = :5201" | grep -q LISTEN && break
	sleep 0.1
done

# The client script inside the sandbox: each test's output between markers.
rr_client='
import socket, sys, time
n = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
s.connect(("'"$peerip"'", 7))
msg = b"x" * 32
lost = 0
rtt = []
for i in range(n + 200):
    t0 = time.perf_counter_ns()
    s.send(msg)
    try:
        s.recv(2048)
    except socket.timeout:
        lost += 1
        continue
    if i >= 200:
        rtt.append(time.perf_counter_ns() - t0)
rtt.sort()
print("rr %.1f %.1f %d %d" % (rtt[len(rtt) // 2] / 1e3, rtt[int(len(rtt) * 0.99)] / 1e3, len(rtt), lost))
'
printf '%s' "$rr_client" >"$tmp/rr.py"
ip3="iperf3 -c $peerip -p 5201 -t $secs -J $iperf3_args"
script="
sleep 1
echo ==tcp-up==; $ip3; echo ==end==
echo ==tcp-down==; $ip3 -R; echo ==end==
echo ==udp-up==; $ip3 -u -b $udprate -l 1400; echo ==end==
echo ==udp-down==; $ip3 -u -b $udprate -l 1400 -R; echo ==end==
echo ==rr==; /usr/bin/python3 $tmp/rr.py $rtts; echo ==end==
"

mkdir -p "$tmp/bundle" "$tmp/state"
(cd "$tmp/bundle" && "$bin" spec)
jq --arg ns "/run/netns/$sbx" --arg s "$script" '
	.root = {path: "/", readonly: true} |
	.process.terminal = false |
	.process.args = ["/bin/sh", "-c", $s] |
	.process.env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/mnt", "TMPDIR=/mnt"] |
	.linux.namespaces = [.linux.namespaces[] | select(.type != "network")] + [{type: "network", path: $ns}] |
	.mounts += [{destination: "/mnt", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev"]}]
' "$tmp/bundle/config.json" >"$tmp/config.json"
mv "$tmp/config.json" "$tmp/bundle/config.json"

# section TEST FILE: the lines of TEST from its first "{" (iperf3 may warn
# before its JSON).
section() { sed -n "/^==$1==\$/,/^==end==\$/p" "$2" | sed '1d;$d' | sed -n '/^{/,$p'; }
results=$tmp/results
: >"$results"

# run_stack NETWORK ROUND: one sandbox on the stack, its numbers appended
# to results as "NETWORK TEST VALUE".
run_stack() {
	local net=$1 round=$2 cid="nsbx-$tag-$1-$2" out="$tmp/out-$1-$2"
	configure_sbx
	cids+=("$cid")
	log "round $round: --network=$net"
	local prof_pid="" prof_flag="" span=$((secs > 5 ? 5 : secs - 1))
	if [ -n "$profdir" ]; then
		prof_flag=--profile
		mkdir -p "$profdir"
		# The upload starts about 2 s after the sandbox, the download
		# about 2 s after the upload ends.
		(sleep 3 && timeout 60 "$bin" --root="$tmp/state" debug --profile-cpu="$profdir/$net-$round.pprof" --duration="${span}s" "$cid" >/dev/null 2>&1
			sleep $((secs - span + 2)) && timeout 60 "$bin" --root="$tmp/state" debug --profile-cpu="$profdir/$net-$round-down.pprof" --duration="${span}s" "$cid" >/dev/null 2>&1) &
		prof_pid=$!
	fi
	timeout $((5 * secs + 120)) "$bin" --root="$tmp/state" --network="$net" --overlay2=all:memory ${prof_flag:+"$prof_flag"} run --bundle "$tmp/bundle" "$cid" 2>&1 | cat >"$out" || true
	[ -n "$prof_pid" ] && wait "$prof_pid" || true
	timeout 30 "$bin" --root="$tmp/state" delete -force "$cid" >/dev/null 2>&1 || true
	[ -n "$keep" ] && mkdir -p "$keep" && cp "$out" "$keep/"
	local t v
	for t in tcp-up tcp-down; do
		v=$(section "$t" "$out" | jq -r '.end.sum_received.bits_per_second / 1e9' 2>/dev/null) || v=""
		[ -n "$v" ] && [ "$v" != null ] && echo "$net $t $v" >>"$results" || log "$net round $round: no $t result"
	done
	for t in udp-up udp-down; do
		v=$(section "$t" "$out" | jq -r '"\(.end.sum_received.bits_per_second / 1e6) \(.end.sum_received.lost_percent)"' 2>/dev/null) || v=""
		if [ -n "$v" ] && [ "${v%% *}" != null ]; then
			echo "$net $t-mbps ${v%% *}" >>"$results"
			echo "$net $t-loss ${v##* }" >>"$results"
		else
			log "$net round $round: no $t result"
		fi
	done
	v=$(sed -n '/^==rr==$/,/^==end==$/p' "$out" | awk '$1 == "rr" { print $2, $3, $5 }')
	if [ -n "$v" ]; then
		read -r med p99 lost <<<"$v"
		echo "$net rr-median $med" >>"$results"
		echo "$net rr-p99 $p99" >>"$results"
		[ "$lost" = 0 ] || log "$net round $round: $lost round trips timed out"
	else
		log "$net round $round: no round-trip result"
	fi
	if ! grep -q '^==rr==$' "$out"; then
		log "$net round $round: the sandbox did not finish; its output:"
		tail -20 "$out" >&2
	fi
}

start=$(date +%s)
for round in $(seq "$rounds"); do
	if [ $((round % 2)) = 1 ]; then order="plugin sandbox"; else order="sandbox plugin"; fi
	for net in $order; do run_stack "$net" "$round"; done
done
elapsed=$(($(date +%s) - start))

gvisor=$(cd "$repo" && go list -m -f '{{.Version}}' gvisor.dev/gvisor 2>/dev/null || echo "?")
echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$built; gvisor $gvisor; $(iperf3 --version | head -1 | cut -d' ' -f1-2); $(/usr/bin/python3 --version)"
echo "$rounds rounds (stack order alternating), iperf3 -t $secs${iperf3_args:+ $iperf3_args}, UDP offered $udprate bit/s with 1400-byte datagrams, $rtts UDP round trips of 32 bytes per round; $elapsed s"
echo
/usr/bin/python3 - "$results" <<'EOF'
import collections, statistics, sys
vals = collections.defaultdict(list)
for line in open(sys.argv[1]):
    net, test, v = line.split()
    vals[(net, test)].append(float(v))
rows = [
    ("tcp-up", "TCP sandbox → peer (Gbit/s)", "high"),
    ("tcp-down", "TCP peer → sandbox (Gbit/s)", "high"),
    ("udp-up-mbps", "UDP sandbox → peer, received (Mbit/s)", "high"),
    ("udp-up-loss", "UDP sandbox → peer, loss (%)", "low"),
    ("udp-down-mbps", "UDP peer → sandbox, received (Mbit/s)", "high"),
    ("udp-down-loss", "UDP peer → sandbox, loss (%)", "low"),
    ("rr-median", "UDP round trip, median (µs)", "low"),
    ("rr-p99", "UDP round trip, p99 (µs)", "low"),
]
def cell(v):
    if not v:
        return "–"
    m = statistics.median(v)
    return "%.3g (%.3g–%.3g)" % (m, min(v), max(v)) if len(v) > 1 else "%.3g" % m
print("| test | runsc-netsandbox `--network=plugin` | stock runsc `--network=sandbox` | plugin / stock |")
print("| --- | --- | --- | --- |")
for key, name, better in rows:
    p, s = vals.get(("plugin", key), []), vals.get(("sandbox", key), [])
    ratio = "–"
    if p and s and statistics.median(s) != 0:
        ratio = "%.2f" % (statistics.median(p) / statistics.median(s))
    print("| %s | %s | %s | %s |" % (name, cell(p), cell(s), ratio))
print()
print("Median of the rounds (min–max). Higher is better for rates, lower for loss and round trips.")
EOF
