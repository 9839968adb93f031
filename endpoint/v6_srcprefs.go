package endpoint

import "golang.org/x/sys/unix"

// The IPV6_PREFER_SRC_* flags of include/uapi/linux/in6.h, which
// x/sys/unix does not name.
const (
	prefSrcTmp           = 0x0001
	prefSrcPublic        = 0x0002
	prefSrcCoA           = 0x0004
	prefSrcCGA           = 0x0008
	prefSrcPubTmpDefault = 0x0100
	prefSrcHome          = 0x0400
	prefSrcNonCGA        = 0x0800
)

// IPV6_ADDR_PREFERENCES (RFC 5014): which kind of source address a
// socket's route lookups prefer. netsandbox's stacks have only public,
// home, non-CGA addresses (no SLAAC temporary addresses, no Mobile IPv6,
// no CGA), which every preference picks as Linux's source selection does
// on a host that has only those; so the value is kept and read back as
// Linux keeps it (np->srcprefs), and routing does not consult it.

// setSrcPrefs is ip6_sock_set_addr_preferences: at most one of PUBLIC,
// TMP and PUBTMP_DEFAULT, of HOME and COA, of CGA and NONCGA (EINVAL
// otherwise). The value replaces what is kept (TMP, PUBLIC, COA) whole:
// Linux 6.x masks all of IPV6_PREFER_SRC_MASK out before each set.
func (o *v6Opts) setSrcPrefs(v int) error {
	var pref int
	switch v & (prefSrcPublic | prefSrcTmp | prefSrcPubTmpDefault) {
	case prefSrcPublic, prefSrcTmp:
		pref = v & (prefSrcPublic | prefSrcTmp)
	case prefSrcPubTmpDefault, 0:
	default:
		return unix.EINVAL
	}
	switch v & (prefSrcHome | prefSrcCoA) {
	case prefSrcCoA:
		pref |= prefSrcCoA
	case prefSrcHome, 0:
	default:
		return unix.EINVAL
	}
	switch v & (prefSrcCGA | prefSrcNonCGA) {
	case prefSrcCGA, prefSrcNonCGA, 0:
	default:
		return unix.EINVAL
	}
	o.srcPrefs = pref
	return nil
}

// srcPrefsVal is do_ipv6_getsockopt's answer: TMP, else PUBLIC, else
// PUBTMP_DEFAULT; COA, else HOME.
func (o *v6Opts) srcPrefsVal() int {
	var v int
	switch {
	case o.srcPrefs&prefSrcTmp != 0:
		v = prefSrcTmp
	case o.srcPrefs&prefSrcPublic != 0:
		v = prefSrcPublic
	default:
		v = prefSrcPubTmpDefault
	}
	if o.srcPrefs&prefSrcCoA != 0 {
		return v | prefSrcCoA
	}
	return v | prefSrcHome
}
