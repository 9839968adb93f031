package agent

import (
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// ErrDead is returned by every call once the agent's pipe has failed or a
// call went unanswered for longer than the client's limit.
var ErrDead = errors.New("agent is gone")

// Client sends Requests to an agent and waits for their Responses. It is
// safe for concurrent use; each call waits at most MaxWait.
type Client struct {
	// MaxWait bounds every call: past it the agent is taken for stuck and
	// the client for dead, so a scenario fails instead of the run hanging.
	MaxWait time.Duration

	mu      sync.Mutex
	enc     *gob.Encoder
	w       io.Closer
	next    uint64
	pending map[uint64]chan *Response
	dead    chan struct{}
	deadErr error
}

// NewClient talks to an agent whose stdin is w and stdout is r. Closing the
// client closes w, which ends the agent.
func NewClient(w io.WriteCloser, r io.Reader) *Client {
	c := &Client{MaxWait: time.Minute, enc: gob.NewEncoder(w), w: w, pending: map[uint64]chan *Response{}, dead: make(chan struct{})}
	go c.read(r)
	return c
}

func (c *Client) read(r io.Reader) {
	dec := gob.NewDecoder(r)
	for {
		resp := new(Response)
		if err := dec.Decode(resp); err != nil {
			c.kill(fmt.Errorf("%w: reading its answers: %v", ErrDead, err))
			return
		}
		c.mu.Lock()
		ch := c.pending[resp.ID]
		delete(c.pending, resp.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- resp
		}
	}
}

// kill marks the client dead (once) and wakes every waiting call.
func (c *Client) kill(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.dead:
	default:
		c.deadErr = err
		close(c.dead)
	}
}

// Dead is closed when the agent is gone.
func (c *Client) Dead() <-chan struct{} { return c.dead }

// Err says why the agent is gone, nil while it is alive.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deadErr
}

// Close closes the agent's stdin; the agent then closes its sockets and
// exits.
func (c *Client) Close() error {
	c.kill(fmt.Errorf("%w: closed", ErrDead))
	return c.w.Close()
}

// Call sends req and waits for its response.
func (c *Client) Call(req *Request) (*Response, error) {
	ch := make(chan *Response, 1)
	c.mu.Lock()
	select {
	case <-c.dead:
		err := c.deadErr
		c.mu.Unlock()
		return nil, err
	default:
	}
	c.next++
	req.ID = c.next
	c.pending[req.ID] = ch
	err := c.enc.Encode(req)
	c.mu.Unlock()
	if err != nil {
		c.kill(fmt.Errorf("%w: writing a request: %v", ErrDead, err))
		return nil, c.Err()
	}
	t := time.NewTimer(c.MaxWait)
	defer t.Stop()
	select {
	case resp := <-ch:
		return resp, resp.err()
	case <-c.dead:
		return nil, c.Err()
	case <-t.C:
		c.kill(fmt.Errorf("%w: %s unanswered after %v", ErrDead, req.Op, c.MaxWait))
		return nil, c.Err()
	}
}

func (r *Response) err() error {
	switch {
	case r.Err != "":
		return errors.New(r.Err)
	case r.Errno != 0:
		return unix.Errno(r.Errno)
	}
	return nil
}

func addr(b []byte, isNil bool) []byte {
	if isNil {
		return nil
	}
	if b == nil {
		return []byte{}
	}
	return b
}

// Socket makes a socket in the agent.
func (c *Client) Socket(domain, typ, proto int, caps []int) (*RemoteSock, error) {
	resp, err := c.Call(&Request{Op: "socket", A: domain, B: typ, C: proto, Caps: caps})
	if err != nil {
		return nil, err
	}
	return c.sock(resp.N, caps), nil
}

func (c *Client) sock(fd int, caps []int) *RemoteSock {
	s := &RemoteSock{c: c, caps: caps}
	s.fd.Store(int64(fd))
	return s
}

// SetSysctl writes a sysctl in the agent (value as given).
func (c *Client) SetSysctl(name, value string) error {
	_, err := c.Call(&Request{Op: "setsysctl", Name: name, Value: value})
	return err
}

// GetSysctl reads a sysctl in the agent.
func (c *Client) GetSysctl(name string) (string, error) {
	resp, err := c.Call(&Request{Op: "getsysctl", Name: name})
	if resp == nil {
		return "", err
	}
	return resp.Value, err
}

// Ping checks that the agent answers.
func (c *Client) Ping() error {
	_, err := c.Call(&Request{Op: "ping"})
	return err
}
