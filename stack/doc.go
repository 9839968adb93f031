// Package stack is the protocol layer netsandbox adds to gVisor's TCP/IP
// stack: its own UDP transport (protocol 17, and UDP-Lite as 136), the
// interface table (ifindex == gVisor NICID), the sysctl knobs and the
// owner's capabilities.
//
// # For programs that use netsandbox
//
// A program builds a stack here and talks over it with package
// netsandbox/nsnet (net.Conn, net.Listener, net.PacketConn) or, at the
// byte level of the system calls, package netsandbox/endpoint. Of this
// package it needs only:
//
//   - New with a Config (capabilities, owner gid, sysctl overrides), and
//     Close, which closes every socket on the stack;
//   - AddInterface with a link (netsandbox/link/channel, link/fdbased) and
//     optionally WithTxQueue; AddAddress, which also installs the subnet's
//     route as Linux does; AddRoute for the rest (a default route);
//   - InterfaceByName, InterfaceByIndex and Interfaces, which describe
//     the interfaces as an Interface;
//   - Sysctl, to read or change /proc/sys/net knobs by name (Get, Set,
//     Int, Pair, Names);
//   - Stats (the Udp: counters of /proc/net/snmp and TcpExt's
//     TCPMinTTLDrop) and Accounting (what became of each inbound frame, by
//     the Out* reasons and OutcomeClass) for monitoring; Caps and GID read back the Config; McastGroups shows an
//     interface's multicast memberships.
//
// docs/guide.md walks through them.
//
// # Plumbing
//
// Every other exported method of *Stack is there for the socket layer in
// netsandbox/endpoint, the sandbox's gateway (netsandbox/gateway) and the
// plugin (netsandbox/plugin), which live in other packages and so need
// them exported. A program has no use for them; the ones that change state
// (the UDP binding, Ping*, Mcast* and TCP option calls) change state that
// a socket owns, and called behind its back they break it. They are:
//
//   - routing and addresses as a socket sees them: RouteSource, RouteFrom,
//     CheckOnLink, LoopsOnLink, PathMTU, LearnPMTU, FragMaxSize,
//     IsLocalAddr, IsBroadcast, AddrIfIndex, Device (DeviceInfo, for
//     the interface ioctls), EphemeralRange, PickPort;
//   - the UDP transport: UDPBind (UDPBinding, UDPReceiver,
//     UDPLiteReceiver, MulticastFilter, Datagram), SendUDP (UDPSend),
//     SendRawIP (RawSend), SendHeaderIncluded, NewDatagramIPID,
//     NewSocketIPID (DatagramIPID);
//   - ICMP and ping sockets: AddICMPErrorSocket (ICMPErrorSocket,
//     ICMPError), PingGetPort, PingLookup, PingUnhash, PingUnregister,
//     PingLocked (PingSocket);
//   - multicast membership: McastIncGroup, McastDecGroup, McastAddSources,
//     McastDelSources, McastAccepts, McastFindDev, McastDevByAddr
//     (FilterMode, McastGroupState);
//   - TCP and IP options: SetTCPIPOptions, TakeSYNIPOptions,
//     TCPOptionsMTU, WatchPeerMSS, SetTCPMinTTL, TCPMinTTLSupported,
//     IPOptionsOutputSupported, JoinRouterAlert, LeaveRouterAlert
//     (RouterAlertSocket), PMTUMode;
//   - the stack's life: OnClose, by which sockets end the calls blocked on
//     them when the stack closes;
//   - Gvisor, the gVisor stack underneath, for endpoint/ and gateway/ to
//     make gVisor's TCP, raw and ICMP endpoints and for plugin/ to read
//     and tune gVisor's TCP options and tables. gVisor's own adapters
//     (gonet) on it bypass netsandbox's socket layer, and its UDP is not
//     there: netsandbox replaced it.
//
// Errno (gVisor error to Linux errno) and MaxUDPPayload serve the same
// packages. docs/ARCHITECTURE.md has one line on each method.
package stack
