package endpoint

import (
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// TestTCPIPOptionsLoopback runs a TCP connection over 127.0.0.1 whose
// client sets a record route, on the kernel and on netsandbox: what each
// side reads back with IP_OPTIONS (the accepted socket: the SYN's options
// echoed) and that a large transfer arrives whole with the payload size
// cut for the options.
func TestTCPIPOptionsLoopback(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	type side struct {
		listen, client api
		accept         func(l api) (api, error)
	}
	run := func(sd side) []string {
		var l logger
		rr := []byte{7, 15, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
		l.add("set client %s", errStr(sd.client.SetSockOpt(unix.SOL_IP, unix.IP_OPTIONS, rr)))
		l.add("bind %s", errStr(sd.listen.Bind(sa("127.0.0.1:0"))))
		l.add("listen %s", errStr(sd.listen.Listen(4)))
		name, _ := sd.listen.GetSockName()
		l.add("connect %s", errStr(sd.client.Connect(sa(fmt.Sprintf("127.0.0.1:%d", portOf(name))))))
		a, err := sd.accept(sd.listen)
		l.add("accept %s", errStr(err))
		if err != nil {
			return l.lines
		}
		defer a.Close()
		for _, c := range []struct {
			op string
			so api
		}{{"client", sd.client}, {"accepted", a}, {"listener", sd.listen}} {
			buf := make([]byte, 40)
			n, err := c.so.GetSockOpt(unix.SOL_IP, unix.IP_OPTIONS, buf)
			l.add("%s get %s %x", c.op, errStr(err), buf[:max(n, 0)])
		}
		const total = 300000
		go func() {
			// The kernel side blocks in send until the reader drains.
			_, _ = sd.client.SendMsg(make([]byte, total), nil, nil, 0)
		}()
		got := 0
		buf := make([]byte, 70000)
		for i := 0; i < 10000 && got < total; i++ {
			n, _, _, _, err := a.RecvMsg(buf, nil, 0)
			if err != nil || n == 0 {
				break
			}
			got += n
		}
		l.add("accepted got %d", got)
		return l.lines
	}
	kl, err := newKernelSock(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := newKernelSock(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kl.Close(); kc.Close() })
	k := run(side{listen: kl, client: kc, accept: func(l api) (api, error) {
		c, _, err := l.(*kernelSock).accept(0)
		if err != nil {
			return nil, err
		}
		return c, nil
	}})
	nl, err := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nl.Close(); nc.Close() })
	n := run(side{listen: nl, client: nc, accept: func(l api) (api, error) {
		c, _, err := l.(Socket).Accept(0)
		if err != nil {
			return nil, err
		}
		return c.(api), nil
	}})
	if d := diffLines(k, n); d != "" {
		t.Errorf("kernel vs netsandbox (-kernel +netsandbox):\n%s", d)
	}
}
