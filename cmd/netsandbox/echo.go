package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/endpoint"
	"netsandbox/options"
	"netsandbox/stack"
)

// pollInterval bounds how long an echo loop waits before it looks at ctx again.
const pollInterval = 200 * time.Millisecond

// waitReadable waits until sock is readable or ctx ends; false means stop.
func waitReadable(ctx context.Context, sock endpoint.Socket) bool {
	for ctx.Err() == nil {
		ev, err := sock.Wait(unix.EPOLLIN|unix.EPOLLERR|unix.EPOLLHUP, time.Now().Add(pollInterval))
		if err == nil && ev != 0 {
			return true
		}
		if err != nil && !errors.Is(err, unix.EAGAIN) {
			return false
		}
	}
	return false
}

func listenAny(s *stack.Stack, typ, port int) (endpoint.Socket, error) {
	sock, err := endpoint.New(s, unix.AF_INET, typ|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	sa := options.SockaddrIn(netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(port)))
	if err := sock.Bind(sa[:]); err != nil {
		sock.Close()
		return nil, err
	}
	if typ == unix.SOCK_STREAM {
		if err := sock.Listen(128); err != nil {
			sock.Close()
			return nil, err
		}
	}
	return sock, nil
}

// echoCounters count what the echo services did, for serve --stats.
type echoCounters struct {
	udpDatagrams atomic.Int64 // datagrams echoed
	tcpConns     atomic.Int64 // connections accepted
	tcpBytes     atomic.Int64 // bytes echoed over TCP
}

func startUDPEcho(ctx context.Context, wg *sync.WaitGroup, s *stack.Stack, port int, ec *echoCounters) error {
	sock, err := listenAny(s, unix.SOCK_DGRAM, port)
	if err != nil {
		return fmt.Errorf("UDP echo on port %d: %w", port, err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer sock.Close()
		buf := make([]byte, 65536)
		for waitReadable(ctx, sock) {
			n, _, _, from, err := sock.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			if err != nil {
				continue
			}
			if _, err := sock.SendMsg(buf[:n], nil, from, unix.MSG_DONTWAIT); err == nil {
				ec.udpDatagrams.Add(1)
			}
		}
	}()
	return nil
}

func startTCPEcho(ctx context.Context, wg *sync.WaitGroup, s *stack.Stack, port int, ec *echoCounters) error {
	ln, err := listenAny(s, unix.SOCK_STREAM, port)
	if err != nil {
		return fmt.Errorf("TCP echo on port %d: %w", port, err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer ln.Close()
		for waitReadable(ctx, ln) {
			conn, _, err := ln.Accept(unix.SOCK_NONBLOCK)
			if err != nil {
				continue
			}
			ec.tcpConns.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				echoStream(ctx, conn, &ec.tcpBytes)
			}()
		}
	}()
	return nil
}

// echoStream copies what conn reads back to it until the peer closes.
func echoStream(ctx context.Context, conn endpoint.Socket, echoed *atomic.Int64) {
	defer conn.Close()
	buf := make([]byte, 32<<10)
	for waitReadable(ctx, conn) {
		n, _, _, _, err := conn.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) {
			continue
		}
		if err != nil || n == 0 {
			return
		}
		for p := buf[:n]; len(p) > 0 && ctx.Err() == nil; {
			m, err := conn.SendMsg(p, nil, nil, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
			if errors.Is(err, unix.EAGAIN) {
				conn.Wait(unix.EPOLLOUT, time.Now().Add(pollInterval))
				continue
			}
			if err != nil {
				return
			}
			echoed.Add(int64(m))
			p = p[m:]
		}
	}
}
