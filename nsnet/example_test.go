package nsnet_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/netip"
	"time"

	"netsandbox/link/channel"
	"netsandbox/nsnet"
	"netsandbox/stack"
)

// Two stacks in memory: each gets an Ethernet interface on one end of a
// channel.Join cable and an address, which brings the on-link route of its
// subnet as on Linux, then they talk TCP.
func Example_twoStacks() {
	la := channel.New(1500, "\x02\x00\x00\x00\x00\x01")
	lb := channel.New(1500, "\x02\x00\x00\x00\x00\x02")
	stop := channel.Join(la, lb)
	defer stop()

	host := func(link *channel.Endpoint, addr string) *stack.Stack {
		st, err := stack.New(stack.Config{})
		if err != nil {
			log.Fatal(err)
		}
		p := netip.MustParsePrefix(addr)
		ifindex, err := st.AddInterface("eth0", link)
		if err != nil {
			log.Fatal(err)
		}
		if err := st.AddAddress(ifindex, p); err != nil {
			log.Fatal(err)
		}
		return st
	}
	a := host(la, "10.0.0.1/24")
	defer a.Close()
	b := host(lb, "10.0.0.2/24")
	defer b.Close()

	l, err := nsnet.Listen(b, "tcp", "10.0.0.2:7007")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprintf(c, "hello %v", c.(*nsnet.TCPConn).RemoteAddrPort().Addr())
	}()

	c, err := nsnet.Dial(a, "tcp", "10.0.0.2:7007")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	msg, _ := io.ReadAll(c)
	fmt.Println(string(msg))
	// Output: hello 10.0.0.1
}

// Control messages: the receiver learns the TTL, TOS, header destination,
// arrival interface and original destination of each datagram; the sender
// sets TTL and TOS for one datagram.
func ExampleUDPConn_ReadMsg() {
	w, err := buildWire()
	if err != nil {
		log.Fatal(err)
	}
	defer w.close()

	srv, err := nsnet.ListenUDP(w.b, netip.MustParseAddrPort("0.0.0.0:5353"))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.SetControlMessage(nsnet.FlagTTL|nsnet.FlagTOS|nsnet.FlagDst|nsnet.FlagInterface|nsnet.FlagOrigDst, true)

	cli, err := nsnet.DialUDP(w.a, netip.AddrPort{}, netip.MustParseAddrPort("10.0.0.2:5353"))
	if err != nil {
		log.Fatal(err)
	}
	defer cli.Close()
	cli.WriteMsg([]byte("query"), &nsnet.ControlMessage{TTL: 3, TOS: 0x10}, netip.AddrPort{})

	var cm nsnet.ControlMessage
	buf := make([]byte, 1500)
	n, from, err := srv.ReadMsg(buf, &cm)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q from %v\n", buf[:n], from.Addr())
	fmt.Printf("ttl %d tos %#x dst %v ifindex %d origdst %v\n", cm.TTL, cm.TOS, cm.Dst, cm.IfIndex, cm.OrigDst)
	// Output:
	// "query" from 10.0.0.1
	// ttl 3 tos 0x10 dst 10.0.0.2 ifindex 2 origdst 10.0.0.2:5353
}

// The error queue: with SetRecvErr on, the ICMP "port unreachable" that a
// datagram drew is read back decoded, with the quoted datagram.
func ExampleUDPConn_ReadErrQueue() {
	w, err := buildWire()
	if err != nil {
		log.Fatal(err)
	}
	defer w.close()

	c, err := nsnet.ListenUDP(w.a, netip.AddrPort{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.SetRecvErr(true)
	c.WriteToUDPAddrPort([]byte("anyone?"), netip.MustParseAddrPort("10.0.0.2:4444"))

	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	quoted := make([]byte, 1500)
	n, ee, err := c.ReadErrQueue(quoted)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ee.Errno)
	fmt.Printf("icmp type %d code %d from %v, sent to %v\n", ee.Type, ee.Code, ee.Offender, ee.Dst)
	fmt.Printf("quoted %q\n", quoted[:n])
	// Output:
	// connection refused
	// icmp type 3 code 3 from 10.0.0.2, sent to 10.0.0.2:4444
	// quoted "anyone?"
}

// A source-specific join: B takes group 232.1.1.1 from 10.0.0.1 only, so
// the datagram A sends from its second address 10.0.0.3 is filtered.
func ExampleUDPConn_JoinSourceSpecificGroup() {
	w, err := buildWire()
	if err != nil {
		log.Fatal(err)
	}
	defer w.close()
	if err := w.a.AddAddress(w.ifA, netip.MustParsePrefix("10.0.0.3/24")); err != nil {
		log.Fatal(err)
	}

	group := netip.MustParseAddr("232.1.1.1")
	rx, err := nsnet.ListenUDP(w.b, netip.AddrPortFrom(netip.IPv4Unspecified(), 5000))
	if err != nil {
		log.Fatal(err)
	}
	defer rx.Close()
	if err := rx.JoinSourceSpecificGroup(w.ifB, group, addrA); err != nil {
		log.Fatal(err)
	}

	tx, err := nsnet.ListenUDP(w.a, netip.AddrPort{})
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Close()
	tx.SetMulticastInterface(w.ifA)
	dst := netip.AddrPortFrom(group, 5000)
	for _, src := range []string{"10.0.0.3", "10.0.0.1"} {
		tx.WriteMsg([]byte("from "+src), &nsnet.ControlMessage{Src: netip.MustParseAddr(src)}, dst)
	}

	// The wire keeps order, so the first datagram B reads would be the one
	// from 10.0.0.3 had the filter let it through.
	buf := make([]byte, 100)
	rx.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := rx.ReadFromUDPAddrPort(buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s (source %v)\n", buf[:n], from.Addr())
	// Output: from 10.0.0.1 (source 10.0.0.1)
}

// HTTP over netsandbox: http.Serve takes an nsnet listener and
// http.Transport dials with an nsnet.Dialer.
func Example_http() {
	w, err := buildWire()
	if err != nil {
		log.Fatal(err)
	}
	defer w.close()

	l, err := nsnet.Listen(w.b, "tcp", "10.0.0.2:8080")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(rw, "hello from netsandbox, %s", r.URL.Path)
	})}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())

	tr := &http.Transport{DialContext: (&nsnet.Dialer{Stack: w.a}).DialContext}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("http://10.0.0.2:8080/docs")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status)
	fmt.Println(string(body))
	// Output:
	// 200 OK
	// hello from netsandbox, /docs
}

// Ping without privileges: an ICMP datagram socket sends echo requests and
// receives the replies to its own identifier. The stack fills in the
// identifier and checksum. Only gids in net.ipv4.ping_group_range may open
// one ("1 0", nobody, by default as on Linux), so the example lets gid 0,
// the default stack.Config.GID, in.
func ExampleICMPConn() {
	w, err := buildWire()
	if err != nil {
		log.Fatal(err)
	}
	defer w.close()
	if err := w.a.Sysctl().Set("net.ipv4.ping_group_range", "0 0"); err != nil {
		log.Fatal(err)
	}

	c, err := nsnet.DialICMP(w.a, netip.AddrPort{}, netip.MustParseAddr("10.0.0.2"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.SetControlMessage(nsnet.FlagTTL, true)

	// Type 8 (echo request), code 0, checksum and identifier left 0,
	// sequence 1, then the data.
	req := []byte{8, 0, 0, 0, 0, 0, 0, 1, 'h', 'e', 'l', 'l', 'o'}
	if _, err := c.Write(req); err != nil {
		log.Fatal(err)
	}

	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var cm nsnet.ControlMessage
	reply := make([]byte, 1500)
	n, from, err := c.ReadMsg(reply, &cm)
	if err != nil {
		log.Fatal(err)
	}
	id := binary.BigEndian.Uint16(reply[4:])
	seq := binary.BigEndian.Uint16(reply[6:])
	fmt.Printf("type %d from %v ttl %d: seq %d %q\n", reply[0], from, cm.TTL, seq, reply[8:n])
	fmt.Println("identifier is the conn's:", id == c.Ident())
	// Output:
	// type 0 from 10.0.0.2 ttl 64: seq 1 "hello"
	// identifier is the conn's: true
}
