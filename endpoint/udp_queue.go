package endpoint

import (
	"math"

	"netsandbox/stack"
)

// Sizes behind Linux's skb->truesize on x86_64, which UDP charges against
// SO_RCVBUF (sk_rmem_alloc vs sk_rcvbuf).
const (
	skbStructSize   = 256   // SKB_DATA_ALIGN(sizeof(struct sk_buff))
	skbSharedInfo   = 320   // SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
	skbSmallHead    = 576   // SKB_SMALL_HEAD_CACHE_SIZE
	skbMaxAlloc     = 16064 // SKB_MAX_ALLOC: larger datagrams go to page frags
	udpSendOverhead = 8 + 20 + 31
	kmallocMaxSize  = 8192 // largest kmalloc cache; above it whole pages
)

// udpTruesize models skb->truesize of a datagram with n payload bytes as a
// local sender on lo builds it (__ip_append_data): UDP and IP headers plus
// link-layer headroom in the head; the head comes from the small-head cache
// or the next kmalloc size, and above SKB_MAX_ALLOC the payload sits in page
// fragments charged byte for byte. Measured against SO_MEMINFO on Linux
// 6.18: 0..100 bytes -> 832, 500 -> 1280, 1000 -> 2304, 4000 -> 8448,
// 10000 -> 16640, 65507 -> 66339.
func udpTruesize(n int) int {
	linear := n + udpSendOverhead
	if linear >= skbMaxAlloc {
		return skbSmallHead + skbStructSize + n
	}
	obj := align64(linear) + skbSharedInfo
	switch {
	case obj <= skbSmallHead:
		obj = skbSmallHead
	case obj <= kmallocMaxSize:
		obj = nextPow2(obj)
	default:
		obj = nextPow2(obj) // page-order allocation
	}
	return obj + skbStructSize
}

func align64(n int) int { return (n + 63) &^ 63 }

func nextPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

// rcvbufHasSpace is the admission rule of __udp_enqueue_schedule_skb as
// measured on Linux 6.18: a datagram fits if the charge stays within the
// buffer, and one datagram is always let into an empty queue unless the
// buffer is huge.
func rcvbufHasSpace(rmem, rcvbuf, size int) bool {
	if rmem+size <= rcvbuf {
		return true
	}
	if rcvbuf > math.MaxInt32>>1 {
		return false
	}
	return rmem == 0
}

// queued is one received datagram with its charge.
type queued struct {
	d        stack.Datagram
	truesize int
	arr      arrival // noted for control messages (recvcmsg.go)
}

// dgramQueue is a FIFO of datagrams; a slice with a moving head keeps the
// steady state free of allocations.
type dgramQueue struct {
	items []queued
	head  int
}

func (q *dgramQueue) len() int { return len(q.items) - q.head }

func (q *dgramQueue) push(e queued) {
	if q.head > 0 && q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	q.items = append(q.items, e)
}

func (q *dgramQueue) front() *queued { return &q.items[q.head] }

func (q *dgramQueue) pop() queued {
	e := q.items[q.head]
	q.items[q.head] = queued{}
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	return e
}
