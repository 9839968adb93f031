#!/usr/bin/env bash
# The conformance verdict must not depend on the machine (issue 11). Two
# checks, both run by CI:
#
#   host-knobs  the host's inherited IPv4 knobs are set the way Docker hosts
#               and distributions set them (ip_forward=1, rp_filter 2 then 1,
#               accept_local, route_localnet, arp_ignore, neigh/default,
#               tcp_rmem), the groups that read them run, and every knob is
#               put back, also on failure or interruption;
#   alone       a random sample of scenarios, each run by itself
#               (--run '^NAME$'), must give the verdict of the full run.
#
# Usage: sudo scripts/host-independence.sh [host-knobs|alone]...   (default both)
# SAMPLE=N sets the sample size (30), SEED=N replays a sample; GROUPS_RE=RE
# sets the scenarios host-knobs runs (GROUPS_RE=. runs them all);
# RP_FILTERS='2 1' the host rp_filter of each round.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
bin=$work/netsandbox
saved=$work/saved
: >"$saved"

# restore_now undoes every knob set so far, newest first, and forgets them.
restore_now() {
	if [ -s "$saved" ]; then
		tac "$saved" | while IFS='=' read -r path value; do
			printf '%s\n' "$value" >"$path" || echo "host-independence: could not restore $path to $value" >&2
		done
		echo "host knobs restored"
	fi
	: >"$saved"
}

restore() {
	restore_now
	rm -rf "$work"
}
trap restore EXIT
trap 'exit 130' INT TERM

# setknob NAME VALUE: sets a host sysctl, remembering its value first.
setknob() {
	local path=/proc/sys/${1//.//}
	if [ ! -e "$path" ]; then
		echo "host-independence: $1 does not exist here; not set"
		return
	fi
	printf '%s=%s\n' "$path" "$(cat "$path")" >>"$saved"
	printf '%s\n' "$2" >"$path"
}

# conformance prints the report's last line, or the whole report when
# something differs.
conformance() {
	local out=$work/report status=0
	"$bin" conformance -q "$@" >"$out" 2>&1 || status=$?
	if [ "$status" = 0 ]; then tail -n 1 "$out"; else cat "$out"; fi
	return "$status"
}

host_knobs() {
	local groups=${GROUPS_RE:-'^(sockopt|cmsg|ipopt|fwd|defaults|icmp|bind|connect)/'}
	for rp in ${RP_FILTERS:-2 1}; do
		echo "== host knobs: ip_forward=1, rp_filter=$rp and friends; groups $groups"
		setknob net.ipv4.ip_forward 1
		setknob net.ipv4.conf.all.rp_filter "$rp"
		setknob net.ipv4.conf.default.rp_filter "$rp"
		setknob net.ipv4.conf.all.accept_local 1
		setknob net.ipv4.conf.default.route_localnet 1
		setknob net.ipv4.conf.all.arp_ignore 1
		setknob net.ipv4.conf.default.accept_source_route 0
		setknob net.ipv4.neigh.default.ucast_solicit 5
		setknob net.ipv4.tcp_rmem "$(printf '4096\t87380\t33554432')"
		conformance --run "$groups"
		# Put the host back between rounds, so each round starts from it.
		restore_now
	done
}

alone() {
	local n=${SAMPLE:-30} seed=${SEED:-$RANDOM} failed=0 i=0 name
	echo "== $n scenarios alone (SEED=$seed replays this sample)"
	while read -r name; do
		i=$((i + 1))
		local re
		re=$(printf '%s' "$name" | sed 's/[][\.*^$+?(){}|]/\\&/g')
		# Bounded: a scenario alone takes seconds; a hang is a failure.
		if out=$(timeout -s INT -k 30 300 "$bin" conformance -q --run "^${re}\$" 2>&1); then
			printf '%2d/%d %s: %s\n' "$i" "$n" "$name" "$(tail -n 1 <<<"$out")"
		else
			printf '%2d/%d %s: FAILED alone\n%s\n' "$i" "$n" "$name" "$out"
			failed=$((failed + 1))
		fi
	done < <("$bin" conformance --list | awk -v seed="$seed" 'BEGIN { srand(seed) } { print rand() "\t" $0 }' | sort -n | head -n "$n" | cut -f2)
	echo "alone: $((i - failed)) passed, $failed failed"
	[ "$failed" = 0 ]
}

go build -o "$bin" ./cmd/netsandbox
steps=("$@")
if [ ${#steps[@]} = 0 ]; then steps=(host-knobs alone); fi
for s in "${steps[@]}"; do
	case $s in
	host-knobs) host_knobs ;;
	alone) alone ;;
	*) echo "usage: $0 [host-knobs|alone]..." >&2; exit 2 ;;
	esac
done
