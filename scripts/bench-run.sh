#!/usr/bin/env bash
# bench-run.sh: iperf3 throughput of a sandboxed client through
# `netsandbox run`, slirp4netns and pasta, on this machine, in one run.
#
# The iperf3 server runs in a network namespace this script creates and
# reaches over a veth from the root namespace; every backend's host side
# dials it from the root namespace, so all three cross the same kernel path
# and differ only in the user-space relay. No other address is contacted.
#
# Per backend, MTU and repetition: TCP upload (sandbox -> server), TCP
# download (-R) and UDP upload (-u -b 0, one datagram per MTU-sized
# packet; throughput as received, and loss). The table holds the median
# of the repetitions. With --write it replaces the "netsandbox run
# throughput" section of BENCHMARKS.md (between its markers).
#
# netsandbox is built from the working tree, or with --head from the
# committed tree alone (git archive HEAD), or taken from --netsandbox.
#
# Needs root, iperf3, jq, and for the other backends slirp4netns and pasta
# (Debian packages: iperf3 jq slirp4netns passt). Not run by CI.
#
# Usage: scripts/bench-run.sh [-t SECONDS] [-r REPS] [-m "1500 65520"]
#            [-b "netsandbox slirp4netns pasta"] [-T "tcp-up tcp-down udp"]
#            [--netsandbox BINARY | --head]
#            [--write] [--cpuprofile-dir DIR]
set -euo pipefail

secs=5
reps=3
mtus="1500 65520"
backends="netsandbox slirp4netns pasta"
tests="tcp-up tcp-down udp"
nsb_bin=""
head=0
write=0
profdir=""

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; exit "${1:-2}"; }
args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--head) args+=("$1") ;;
	-t | -r | -m | -b | -T) case $2 in *" "*) args+=("$1" "'$2'") ;; *) args+=("$1" "$2") ;; esac ;;
	esac
	case "$1" in
	-t) secs=$2; shift 2 ;;
	-r) reps=$2; shift 2 ;;
	-m) mtus=$2; shift 2 ;;
	-b) backends=$2; shift 2 ;;
	-T) tests=$2; shift 2 ;;
	--netsandbox) nsb_bin=$2; shift 2 ;;
	--write) write=1; shift ;;
	--head) head=1; shift ;;
	--cpuprofile-dir) profdir=$2; shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "bench-run: unknown argument $1" >&2; usage ;;
	esac
done
case "$secs$reps" in *[!0-9]*) echo "bench-run: -t and -r take whole numbers" >&2; exit 2 ;; esac
[ "$secs" -ge 1 ] && [ "$secs" -le 60 ] && [ "$reps" -ge 1 ] && [ "$reps" -le 9 ] ||
	{ echo "bench-run: want -t 1..60 and -r 1..9" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench-run: needs root (namespaces, veth)" >&2; exit 1; }

need() { command -v "$1" >/dev/null || { echo "bench-run: $1 not found (apt-get install $2)" >&2; exit 1; }; }
need iperf3 iperf3
need jq jq
need ip iproute2
for b in $backends; do
	case $b in
	netsandbox) ;;
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

total=$((reps * 40 * (secs + 15) + 120))
ip netns exec "$srvns" timeout "$total" iperf3 -s -B "$srvip" -p "$port" >"$tmp/server.log" 2>&1 &
pids+=($!)
srvpid=$!
for _ in $(seq 50); do
	ip netns exec "$srvns" ss -ltn "sport = :$port" | grep -q LISTEN && break
	sleep 0.1
done
kill -0 "$srvpid" || { log "iperf3 server did not start:"; cat "$tmp/server.log" >&2; exit 1; }

# client_prefix BACKEND MTU: starts what the backend needs and prints the
# command prefix that runs a program in its sandbox.
helper=""
start_backend() {
	local b=$1 mtu=$2
	helper=""
	case $b in
	netsandbox)
		local prof=""
		[ -n "$profdir" ] && prof="--cpuprofile $profdir/netsandbox-$mtu-PROFTEST.pprof"
		prefix="$nsb_bin run --mtu $mtu --resolv-conf=false $prof --"
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
	local i
	for i in $(seq 100); do
		[ -n "$(ip -n "$cltns" -4 route show default 2>/dev/null)" ] && break
		kill -0 "$helper" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$(ip -n "$cltns" -4 route show default 2>/dev/null)" ]; then
		log "$b did not configure $cltns:"
		cat "$tmp/helper.log" >&2
		exit 1
	fi
	prefix="ip netns exec $cltns"
}
stop_backend() {
	[ -n "$helper" ] && stop "$helper"
	helper=""
	ip netns del "$cltns" 2>/dev/null || true
}

# udp_arrived: datagrams that reached the server namespace's UDP layer
# (delivered, or dropped because the server's socket was full).
udp_arrived() {
	ip netns exec "$srvns" cat /proc/net/snmp |
		awk '$1 == "Udp:" && $2 !~ /^[0-9]+$/ { for (i = 2; i <= NF; i++) if ($i == "InDatagrams" || $i == "RcvbufErrors") want[i] = 1; next }
			$1 == "Udp:" { n = 0; for (i in want) n += $i; print n; exit }'
}

# run_test TEST: one iperf3 client run through $prefix; prints
# "GBITS LOSS RELAYED" (LOSS and RELAYED "-" for TCP), or "fail fail fail".
# RELAYED (UDP): Gbit/s of datagrams that reached the server's socket,
# whether or not the server kept up with them.
run_test() {
	local t=$1 args=(-c "$srvip" -p "$port" -t "$secs" -J)
	case $t in
	tcp-up) ;;
	tcp-down) args+=(-R) ;;
	udp) args+=(-u -b 0 -l $((mtu - 28))) ;;
	esac
	local p=${prefix//PROFTEST/$t}
	local before
	before=$(udp_arrived)
	# shellcheck disable=SC2086 # the prefix is words
	if ! timeout $((secs + 30)) $p iperf3 "${args[@]}" >"$tmp/out.json" 2>"$tmp/err.log"; then
		log "$t failed: $(head -c 300 "$tmp/err.log") $(jq -r '.error // empty' "$tmp/out.json" 2>/dev/null)"
		echo "fail fail fail"
		return
	fi
	if [ "$t" = udp ]; then
		local relayed
		relayed=$(awk -v a="$before" -v b="$(udp_arrived)" -v l=$((mtu - 28)) -v s="$secs" 'BEGIN { print (b - a) * l * 8 / s / 1e9 }')
		jq -r --arg r "$relayed" '.end.sum_received | "\(.bits_per_second / 1e9) \(.lost_percent) \($r)"' "$tmp/out.json"
	else
		jq -r '"\(.end.sum_received.bits_per_second / 1e9) - -"' "$tmp/out.json"
	fi
}

for t in $tests; do
	case $t in tcp-up | tcp-down | udp) ;; *) echo "bench-run: unknown test $t" >&2; exit 2 ;; esac
done
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average $load_before; $reps x ($backends) x MTU ($mtus) x ($tests), ${secs}s each"
for r in $(seq "$reps"); do
	for mtu in $mtus; do
		for b in $backends; do
			start_backend "$b" "$mtu"
			for t in $tests; do
				read -r g loss relayed < <(run_test "$t")
				echo "$b $mtu $t $g $loss $relayed" >>"$tmp/results"
				printf 'bench-run: [%d/%d] %-11s mtu %-5s %-8s %s Gbit/s%s\n' "$r" "$reps" "$b" "$mtu" "$t" \
					"$([ "$g" = fail ] && echo fail || printf '%.2f' "$g")" \
					"$([ "$loss" = - ] || [ "$loss" = fail ] || printf ', loss %.1f %%, %.2f Gbit/s reached the server' "$loss" "$relayed")" >&2
			done
			stop_backend
		done
	done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# median B MTU TEST FIELD: the median over the repetitions (field 4:
# Gbit/s, 5: loss), "fail" if any repetition failed.
median() {
	awk -v b="$1" -v m="$2" -v t="$3" -v f="$4" '
		$1 == b && $2 == m && $3 == t { if ($f == "fail") bad = 1; v[n++] = $f }
		END {
			if (n == 0) { print "-"; exit }
			if (bad) { print "fail"; exit }
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
			print (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
		}' "$tmp/results"
}
fmt() { case $1 in fail | -) echo "$1" ;; *) printf "$2" "$1" ;; esac; }

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
ver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "?"; }
{
	echo "$(nproc) cores ($cpu), Linux $(uname -r), $(go version 2>/dev/null | cut -d' ' -f3 || echo go?),"
	echo "iperf3 $(ver iperf3), slirp4netns $(ver slirp4netns) (libslirp $(ver libslirp0)), pasta (passt $(ver passt)),"
	echo "$built. Load average (1, 5, 15 min) $load_before at the start,"
	echo "$load_after at the end; the machine was shared, so single numbers move by tens of percent."
	echo "Median of $reps runs of ${secs} s each; Gbit/s as the receiver counted it."
	echo
	echo "| backend | MTU | TCP upload | TCP download | UDP received (loss) | UDP reaching the server |"
	echo "|---|---:|---:|---:|---:|---:|"
	for mtu in $mtus; do
		for b in $backends; do
			up=$(median "$b" "$mtu" tcp-up 4)
			down=$(median "$b" "$mtu" tcp-down 4)
			udp=$(median "$b" "$mtu" udp 4)
			loss=$(median "$b" "$mtu" udp 5)
			name=$b
			[ "$b" = netsandbox ] && name='`netsandbox run`'
			udpcell=$(fmt "$udp" '%.2f')
			[ "$udp" = - ] || udpcell="$udpcell ($(fmt "$loss" '%.0f') %)"
			arrived=$(median "$b" "$mtu" udp 6)
			echo "| $name | $mtu | $(fmt "$up" '%.2f') | $(fmt "$down" '%.2f') | $udpcell | $(fmt "$arrived" '%.2f') |"
		done
	done
	echo
	echo "Reproduce (as root; the server runs in a namespace the script makes):"
	echo
	echo '```sh'
	echo "scripts/bench-run.sh ${args[*]+${args[*]}} --write"
	echo '```'
	echo
	echo "Per-run numbers:"
	echo
	echo '```'
	awk '{ g = ($4 == "fail") ? "fail" : sprintf("%.2f Gbit/s", $4)
		l = ($5 == "-" || $5 == "fail") ? "" : sprintf(", loss %.1f %%, %.2f Gbit/s reached the server", $5, $6)
		printf "%-11s mtu %-5s %-8s %s%s\n", $1, $2, $3, g, l }' "$tmp/results"
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

		iperf3 from inside the sandbox to a server in another network namespace
		(over a veth from the host), through \`netsandbox run\`, slirp4netns and
		pasta on the same machine in one run (\`scripts/bench-run.sh\`). Upload:
		sandbox to server; download: \`iperf3 -R\`; UDP: \`-u -b 0\` with one
		datagram per full-MTU packet, received rate and loss.

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
