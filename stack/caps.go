package stack

// Caps is the set of Linux capabilities the stack's owner holds, one bit per
// capability. Only the capabilities that change socket-layer behaviour are
// modelled; the zero value holds none.
type Caps uint64

const (
	// CapNetBindService allows binding ports below 1024 (CAP_NET_BIND_SERVICE).
	CapNetBindService Caps = 1 << iota
	// CapNetAdmin allows privileged socket options (CAP_NET_ADMIN).
	CapNetAdmin
	// CapNetRaw allows SOCK_RAW sockets and IP_TRANSPARENT (CAP_NET_RAW).
	CapNetRaw
)

// AllCaps holds every capability netsandbox models.
const AllCaps = CapNetBindService | CapNetAdmin | CapNetRaw

// Has reports whether every capability in x is held.
func (c Caps) Has(x Caps) bool { return c&x == x }
