#!/usr/bin/env bash
# bench-run.sh: a sandboxed client's throughput and latency through
# `netsandbox run`, slirp4netns and pasta, and without a relay, on this
# machine, in one run.
#
# The servers (iperf3, sockperf) run in a network namespace this script
# creates and reaches over a veth from the root namespace; every backend's
# host side dials them from the root namespace, so all cross the same
# kernel path and differ only in the user-space relay. "direct" runs the
# clients in the root namespace: the kernel alone, the floor for latency.
# No other address is contacted.
#
# Like for like: every TAP (the sandbox side of each relay) gets the same
# txqueuelen (-q, default 10000; the kernel's default of 1000 overflows
# under a TCP upload through a relay that drains it slowly, and without
# SACK from the relay that collapses throughput). `netsandbox run` passes
# TCP over its TAP in segments of up to 64 KiB (virtio-net header, TSO);
# slirp4netns and pasta open a plain TAP, MTU-sized frames only, and so does
# the "netsandbox-plain" backend (`netsandbox run --offload=false`). The
# table says which per row. Backends run in rotating order, one repetition
# after another, so a slow minute does not land on one backend.
#
# Per backend, MTU and repetition: TCP upload (sandbox -> server), TCP
# download (-R), UDP upload at each fixed offered rate (-u -b RATE, one
# datagram per full-MTU packet; received rate and loss). At the first MTU
# also latency: ping (-i 0.01, median and p99 of the round trips) and a UDP
# request/response (sockperf ping-pong --full-rtt, 100 messages a second,
# median and p99). The table holds the median of the repetitions and their
# range. With --write it replaces the "netsandbox run throughput" section
# of BENCHMARKS.md (between its markers).
#
# netsandbox is built from the working tree, or with --head from the
# committed tree alone (git archive HEAD), or taken from --netsandbox.
# --baseline BINARY adds the backend "netsandbox-base": `netsandbox run`
# of another build (a change's parent), so that a change is measured
# against its baseline in the same run, interleaved with it (add
# netsandbox-base to -b; with --baseline and no -b it follows netsandbox).
#
# Needs root, iperf3, jq, sockperf, ping, and for the other backends
# slirp4netns and pasta (Debian packages: iperf3 jq sockperf iputils-ping
# slirp4netns passt). Not run by CI.
#
# Usage: scripts/bench-run.sh [-t SECONDS] [-r REPS] [-m "1500 65520"]
#            [-b "direct netsandbox netsandbox-plain slirp4netns pasta"]
#            [-T "tcp-up tcp-down udp ping rr"] [-u "100M 1G"] [-q TXQUEUELEN]
#            [--netsandbox BINARY | --head] [--baseline BINARY]
#            [--write] [--cpuprofile-dir DIR]
set -euo pipefail

secs=5
reps=3
mtus="1500 65520"
backends="direct netsandbox netsandbox-plain slirp4netns pasta"
tests="tcp-up tcp-down udp ping rr"
udprates="100M 1G"
txq=10000
nsb_bin=""
base_bin=""
backends_set=0
head=0
write=0
profdir=""

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; exit "${1:-2}"; }
args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--head) args+=("$1") ;;
	--baseline) args+=("$1" BASELINE) ;;
	-t | -r | -m | -b | -T | -u | -q) case $2 in *" "*) args+=("$1" "'$2'") ;; *) args+=("$1" "$2") ;; esac ;;
	esac
	case "$1" in
	-t) secs=$2; shift 2 ;;
	-r) reps=$2; shift 2 ;;
	-m) mtus=$2; shift 2 ;;
	-b) backends=$2; backends_set=1; shift 2 ;;
	-T) tests=$2; shift 2 ;;
	-u) udprates=$2; shift 2 ;;
	-q) txq=$2; shift 2 ;;
	--netsandbox) nsb_bin=$2; shift 2 ;;
	--baseline) base_bin=$2; shift 2 ;;
	--write) write=1; shift ;;
	--head) head=1; shift ;;
	--cpuprofile-dir) profdir=$2; shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "bench-run: unknown argument $1" >&2; usage ;;
	esac
done
case "$secs$reps$txq" in *[!0-9]*) echo "bench-run: -t, -r and -q take whole numbers" >&2; exit 2 ;; esac
[ "$secs" -ge 1 ] && [ "$secs" -le 60 ] && [ "$reps" -ge 1 ] && [ "$reps" -le 9 ] ||
	{ echo "bench-run: want -t 1..60 and -r 1..9" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench-run: needs root (namespaces, veth)" >&2; exit 1; }

need() { command -v "$1" >/dev/null || { echo "bench-run: $1 not found (apt-get install $2)" >&2; exit 1; }; }
need iperf3 iperf3
need jq jq
need ip iproute2
need sockperf sockperf
need ping iputils-ping
if [ -n "$base_bin" ] && [ "$backends_set" = 0 ]; then
	backends=${backends/netsandbox /netsandbox netsandbox-base }
fi
for b in $backends; do
	case $b in
	direct | netsandbox | netsandbox-plain) ;;
	netsandbox-base)
		[ -x "$base_bin" ] || { echo "bench-run: backend netsandbox-base needs --baseline BINARY" >&2; exit 2; }
		;;
	slirp4netns) need slirp4netns slirp4netns ;;
	pasta) need pasta passt ;;
	*) echo "bench-run: unknown backend $b" >&2; exit 2 ;;
	esac
done

repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/nsbench.XXXXXX)
id=$$
srvns="nsbench-$id-srv"
cltns="nsbench-$id-clt"
vhost="nsb${id}h"
vsrv="nsb${id}s"
# A /30 of 10.213.0.0/16 chosen by PID; refused below if the host uses it.
net3="10.213.$(((id / 64) % 256))"
base=$(((id % 64) * 4))
hostip="$net3.$((base + 1))"
srvip="$net3.$((base + 2))"
port=$((5200 + id % 700))
pids=()

# pasta relays ICMP echo through ping sockets (SOCK_DGRAM, IPPROTO_ICMP),
# which net.ipv4.ping_group_range must allow for root; the knob is widened
# to group 0 for the run and put back by cleanup.
pgr_knob=/proc/sys/net/ipv4/ping_group_range
pgr_before=""
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		# Bounded: the helpers end on SIGTERM; a stuck one gets SIGKILL.
		for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
	ip netns del "$cltns" 2>/dev/null || true
	ip netns del "$srvns" 2>/dev/null || true
	ip link del "$vhost" 2>/dev/null || true
	[ -n "$pgr_before" ] && echo "$pgr_before" >"$pgr_knob"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

log() { echo "bench-run: $*" >&2; }

# Process ids are removed from pids once waited for, so cleanup never
# signals a recycled id.
forget() {
	local p keep=()
	for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	pids=("${keep[@]+"${keep[@]}"}")
}
stop() {
	kill "$1" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	forget "$1"
}

if ip -4 addr show | grep -q "inet $net3\." || [ -n "$(ip -4 route show match "$srvip/32" | grep -v '^default')" ]; then
	log "$net3.0/24 is in use on this host; rerun (the subnet follows the PID)"
	exit 1
fi

commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo "?")
dirty=$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
if [ -n "$nsb_bin" ]; then
	built="netsandbox binary $nsb_bin (tree at commit $commit$dirty)"
elif [ "$head" = 1 ]; then
	log "building netsandbox from commit $commit"
	mkdir "$tmp/src"
	git -C "$repo" archive HEAD | tar -x -C "$tmp/src"
	(cd "$tmp/src" && CGO_ENABLED=0 go build -trimpath -o "$tmp/netsandbox" ./cmd/netsandbox)
	nsb_bin=$tmp/netsandbox
	built="netsandbox at commit $commit"
else
	log "building netsandbox"
	(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$tmp/netsandbox" ./cmd/netsandbox)
	nsb_bin=$tmp/netsandbox
	built="netsandbox from the tree at commit $commit$dirty"
fi

base_built=$base_bin

case " $backends " in
*" pasta "*)
	read -r lo hi <"$pgr_knob"
	if [ "$lo" -gt 0 ] || [ "$hi" -lt 0 ]; then
		pgr_before="$lo	$hi"
		echo "0 0" >"$pgr_knob"
		log "net.ipv4.ping_group_range $lo $hi -> 0 0 for pasta's ping relay, restored at the end"
	fi
	;;
esac

log "server namespace $srvns at $srvip (veth $vhost/$vsrv, host side $hostip)"
ip netns add "$srvns"
ip link add "$vhost" type veth peer name "$vsrv" netns "$srvns"
# The veth is never the bottleneck: the same large MTU for every backend.
ip link set "$vhost" mtu 65520 up
ip addr add "$hostip/30" dev "$vhost"
ip -n "$srvns" link set lo up
ip -n "$srvns" link set "$vsrv" mtu 65520 up
ip -n "$srvns" addr add "$srvip/30" dev "$vsrv"
ip -n "$srvns" route add default via "$hostip"

nb=$(echo $backends | wc -w)
nm=$(echo $mtus | wc -w)
nu=$(echo $udprates | wc -w)
total=$((reps * nb * nm * (3 + nu) * (secs + 15) + 600))
ip netns exec "$srvns" timeout "$total" iperf3 -s -B "$srvip" -p "$port" >"$tmp/server.log" 2>&1 &
pids+=($!)
srvpid=$!
rrport=$((port + 1))
ip netns exec "$srvns" timeout "$total" sockperf server -i "$srvip" -p "$rrport" >"$tmp/sockperf.log" 2>&1 &
pids+=($!)
rrpid=$!
for _ in $(seq 50); do
	ip netns exec "$srvns" ss -ltn "sport = :$port" | grep -q LISTEN && break
	sleep 0.1
done
kill -0 "$srvpid" || { log "iperf3 server did not start:"; cat "$tmp/server.log" >&2; exit 1; }
kill -0 "$rrpid" || { log "sockperf server did not start:"; cat "$tmp/sockperf.log" >&2; exit 1; }

# label BACKEND: the backend's name in the tables.
label() {
	case $1 in
	netsandbox) echo '`netsandbox run`' ;;
	netsandbox-plain) echo '`netsandbox run --offload=false`' ;;
	netsandbox-base) echo '`netsandbox run`, baseline' ;;
	*) echo "$1" ;;
	esac
}

# frames BACKEND: what crosses the sandbox's link, for the table.
frames() {
	case $1 in
	direct) echo "no relay (veth)" ;;
	netsandbox | netsandbox-base) echo "TAP, TSO: up to 64 KiB" ;;
	*) echo "TAP, MTU-sized" ;;
	esac
}

# start_backend BACKEND MTU: starts what the backend needs and sets prefix,
# the command prefix that runs a program in its sandbox (after the TAP's
# txqueuelen is set).
helper=""
start_backend() {
	local b=$1 mtu=$2
	helper=""
	case $b in
	direct)
		prefix=""
		return
		;;
	netsandbox | netsandbox-plain | netsandbox-base)
		local prof="" off=true bin=$nsb_bin
		[ -n "$profdir" ] && prof="--cpuprofile $profdir/$b-$mtu-PROFTEST.pprof"
		[ "$b" = netsandbox-plain ] && off=false
		[ "$b" = netsandbox-base ] && bin=$base_bin
		prefix="$bin run --mtu $mtu --offload=$off --resolv-conf=false $prof -- $tmp/in-tap.sh tap0 $txq"
		return
		;;
	slirp4netns)
		ip netns add "$cltns"
		slirp4netns --configure --mtu="$mtu" --netns-type=path "/run/netns/$cltns" tap0 >"$tmp/helper.log" 2>&1 &
		;;
	pasta)
		ip netns add "$cltns"
		# --runas 0: as root pasta otherwise drops to nobody and cannot
		# open the namespace. -f: stay in the foreground, our child.
		pasta -f -q --config-net -m "$mtu" --runas 0 --netns "/run/netns/$cltns" >"$tmp/helper.log" 2>&1 &
		;;
	esac
	helper=$!
	pids+=("$helper")
	local i dev
	for i in $(seq 100); do
		[ -n "$(ip -n "$cltns" -4 route show default 2>/dev/null)" ] && break
		kill -0 "$helper" 2>/dev/null || break
		sleep 0.1
	done
	dev=$(ip -n "$cltns" -4 route show default 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1) }')
	if [ -z "$dev" ]; then
		log "$b did not configure $cltns:"
		cat "$tmp/helper.log" >&2
		exit 1
	fi
	ip -n "$cltns" link set dev "$dev" txqueuelen "$txq"
	prefix="ip netns exec $cltns"
}
stop_backend() {
	[ -n "$helper" ] && stop "$helper"
	helper=""
	ip netns del "$cltns" 2>/dev/null || true
}
# in-tap.sh DEV QLEN CMD...: inside `netsandbox run`, sets the TAP's
# txqueuelen as the other backends get it, then runs CMD.
cat >"$tmp/in-tap.sh" <<'EOF'
#!/bin/sh
ip link set dev "$1" txqueuelen "$2" || exit 125
shift 2
exec "$@"
EOF
chmod +x "$tmp/in-tap.sh"

# udp_arrived: datagrams that reached the server namespace's UDP layer
# (delivered, or dropped because the server's socket was full).
udp_arrived() {
	ip netns exec "$srvns" cat /proc/net/snmp |
		awk '$1 == "Udp:" && $2 !~ /^[0-9]+$/ { for (i = 2; i <= NF; i++) if ($i == "InDatagrams" || $i == "RcvbufErrors") want[i] = 1; next }
			$1 == "Udp:" { n = 0; for (i in want) n += $i; print n; exit }'
}

# run_test TEST: one client run through $prefix; prints "V1 V2 V3" or
# "fail fail fail". tcp-*: Gbit/s - -; udp-RATE: received Gbit/s, loss %,
# Gbit/s of datagrams that reached the server's socket whether or not the
# server kept up; ping and rr: median and p99 round trip in µs, -.
run_test() {
	local t=$1 args=(-c "$srvip" -p "$port" -t "$secs" -J)
	local p=${prefix//PROFTEST/$t}
	case $t in
	ping)
		# 210 echoes; the first 10 (neighbour resolution, a relay's first
		# flow) are not counted.
		# shellcheck disable=SC2086 # the prefix is words
		if ! timeout $((secs + 30)) $p ping -n -i 0.01 -c 210 -W 1 "$srvip" >"$tmp/ping.txt" 2>&1; then
			log "ping failed: $(tail -c 300 "$tmp/ping.txt")"
			echo "fail fail fail"
			return
		fi
		sed -n 's/.* icmp_seq=\([0-9]*\) .* time=\([0-9.]*\) ms.*/\1 \2/p' "$tmp/ping.txt" | awk '$1 > 10 { print $2 }' | sort -n |
			awk '{ v[n++] = $1 * 1000 } END { if (n < 190) { print "fail fail fail"; exit } printf "%.0f %.0f -\n", v[int(n / 2)], v[int(n * 0.99)] }'
		return
		;;
	rr)
		# shellcheck disable=SC2086 # the prefix is words
		if ! timeout $((secs + 30)) $p sockperf ping-pong -i "$srvip" -p "$rrport" -t "$secs" --mps 100 -m 32 --full-rtt >"$tmp/rr.txt" 2>&1; then
			log "sockperf failed: $(tail -c 300 "$tmp/rr.txt")"
			echo "fail fail fail"
			return
		fi
		awk '/percentile 50.000 =/ { m = $NF } /percentile 99.000 =/ { q = $NF }
			END { if (m == "" || q == "") print "fail fail fail"; else printf "%.0f %.0f -\n", m, q }' "$tmp/rr.txt"
		return
		;;
	tcp-up) ;;
	tcp-down) args+=(-R) ;;
	udp-*) args+=(-u -b "${t#udp-}" -l $((mtu - 28))) ;;
	esac
	local before
	before=$(udp_arrived)
	# shellcheck disable=SC2086 # the prefix is words
	if ! timeout $((secs + 30)) $p iperf3 "${args[@]}" >"$tmp/out.json" 2>"$tmp/err.log"; then
		log "$t failed: $(head -c 300 "$tmp/err.log") $(jq -r '.error // empty' "$tmp/out.json" 2>/dev/null)"
		echo "fail fail fail"
		return
	fi
	case $t in
	udp-*)
		local relayed
		relayed=$(awk -v a="$before" -v b="$(udp_arrived)" -v l=$((mtu - 28)) -v s="$secs" 'BEGIN { print (b - a) * l * 8 / s / 1e9 }')
		jq -r --arg r "$relayed" '.end.sum_received | "\(.bits_per_second / 1e9) \(.lost_percent) \($r)"' "$tmp/out.json"
		;;
	*) jq -r '"\(.end.sum_received.bits_per_second / 1e9) - -"' "$tmp/out.json" ;;
	esac
}

runs=""
for t in $tests; do
	case $t in
	tcp-up | tcp-down | ping | rr) runs="$runs $t" ;;
	udp) for u in $udprates; do runs="$runs udp-$u"; done ;;
	*) echo "bench-run: unknown test $t" >&2; exit 2 ;;
	esac
done
first_mtu=${mtus%% *}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average $load_before; $reps x ($backends, rotating) x MTU ($mtus) x ($runs), ${secs}s each, txqueuelen $txq"
: >"$tmp/results"
for r in $(seq "$reps"); do
	# Rotate the backends by one place per repetition.
	set -- $backends
	for _ in $(seq $(((r - 1) % $#))); do set -- "${@:2}" "$1"; done
	order="$*"
	for mtu in $mtus; do
		for b in $order; do
			start_backend "$b" "$mtu"
			for t in $runs; do
				case $t in ping | rr) [ "$mtu" = "$first_mtu" ] || continue ;; esac
				read -r v1 v2 v3 < <(run_test "$t")
				echo "$b $mtu $t $v1 $v2 $v3" >>"$tmp/results"
				case $t in
				ping | rr) msg="$v1 µs median, $v2 µs p99" ;;
				udp-*) msg="$v1 Gbit/s, loss $v2 %, $v3 Gbit/s reached the server" ;;
				*) msg="$v1 Gbit/s" ;;
				esac
				printf 'bench-run: [%d/%d] %-16s mtu %-5s %-9s %s\n' "$r" "$reps" "$b" "$mtu" "$t" "$msg" >&2
			done
			stop_backend
		done
	done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# cell B MTU TEST FIELD FORMAT [median]: "median (min–max)" over the
# repetitions (field 4, 5 or 6), the median alone with a sixth argument,
# "fail" if any failed, "-" if not run.
cell() {
	awk -v b="$1" -v m="$2" -v t="$3" -v f="$4" -v fmt="$5" -v bare="${6:-}" '
		$1 == b && $2 == m && $3 == t { if ($f == "fail") bad = 1; v[n++] = $f }
		END {
			if (n == 0) { print "-"; exit }
			if (bad) { print "fail"; exit }
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
			med = (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
			out = sprintf(fmt, med)
			if (n > 1 && bare == "") out = out " (" sprintf(fmt, v[0]) "–" sprintf(fmt, v[n - 1]) ")"
			print out
		}' "$tmp/results"
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
ver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "?"; }
{
	echo "$(nproc) cores ($cpu), Linux $(uname -r), $(go version 2>/dev/null | cut -d' ' -f3 || echo go?),"
	echo "iperf3 $(ver iperf3), sockperf $(ver sockperf), slirp4netns $(ver slirp4netns) (libslirp $(ver libslirp0)), pasta (passt $(ver passt)),"
	[ -n "$base_bin" ] && echo "Baseline (netsandbox-base): $base_built."
	echo "$built. Load average (1, 5, 15 min) $load_before at the start,"
	echo "$load_after at the end. Every TAP at txqueuelen $txq; backends in rotating order."
	echo "Median of $reps runs of ${secs} s each (min–max); Gbit/s as the receiver counted it."
	echo
	printf '| backend | sandbox link | MTU | TCP upload | TCP download |'
	for u in $udprates; do printf ' UDP at %s: received (loss %%) |' "$u"; done
	echo
	printf '|---|---|---:|---:|---:|'
	for u in $udprates; do printf -- '---:|'; done
	echo
	for mtu in $mtus; do
		for b in $backends; do
			printf '| %s | %s | %s | %s | %s |' "$(label "$b")" "$(frames "$b")" "$mtu" \
				"$(cell "$b" "$mtu" tcp-up 4 %.2f)" "$(cell "$b" "$mtu" tcp-down 4 %.2f)"
			for u in $udprates; do
				printf ' %s (%s %%) |' "$(cell "$b" "$mtu" "udp-$u" 4 %.3f median)" "$(cell "$b" "$mtu" "udp-$u" 5 %.1f median)"
			done
			echo
		done
	done
	if grep -qE ' (ping|rr) ' "$tmp/results"; then
		echo
		echo "Latency at MTU $first_mtu, round trips in µs: ping (200 at 10 ms intervals) and a"
		echo "32-byte UDP request/response (sockperf ping-pong, 100 a second for ${secs} s):"
		echo
		echo "| backend | ping median | ping p99 | UDP request/response median | UDP request/response p99 |"
		echo "|---|---:|---:|---:|---:|"
		for b in $backends; do
			echo "| $(label "$b") | $(cell "$b" "$first_mtu" ping 4 %.0f) | $(cell "$b" "$first_mtu" ping 5 %.0f) | $(cell "$b" "$first_mtu" rr 4 %.0f) | $(cell "$b" "$first_mtu" rr 5 %.0f) |"
		done
	fi
	echo
	echo "Reproduce (as root; the servers run in a namespace the script makes):"
	echo
	echo '```sh'
	echo "scripts/bench-run.sh ${args[*]+${args[*]}} --write"
	echo '```'
	echo
	echo "Per-run numbers (in the order they ran):"
	echo
	echo '```'
	awk '{ if ($4 == "fail") v = "fail"
		else if ($3 == "ping" || $3 == "rr") v = sprintf("%s µs median, %s µs p99", $4, $5)
		else if ($3 ~ /^udp-/) v = sprintf("%.3f Gbit/s, loss %.1f %%, %.3f Gbit/s reached the server", $4, $5, $6)
		else v = sprintf("%.2f Gbit/s", $4)
		printf "%-16s mtu %-5s %-9s %s\n", $1, $2, $3, v }' "$tmp/results"
	echo '```'
} >"$tmp/table.md"
echo
cat "$tmp/table.md"

if [ "$write" = 1 ]; then
	md=$repo/BENCHMARKS.md
	begin='<!-- bench-run:begin -->'
	end='<!-- bench-run:end -->'
	if ! grep -qF "$begin" "$md"; then
		cat >>"$md" <<-EOF

		## \`netsandbox run\` throughput

		$begin
		$end
		EOF
	fi
	awk -v b="$begin" -v e="$end" -v f="$tmp/table.md" '
		$0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
		$0 == e { skip = 0 }
		!skip' "$md" >"$tmp/BENCHMARKS.md"
	cat "$tmp/BENCHMARKS.md" >"$md"
	log "wrote the table into $md"
fi
