package nsnet_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"netsandbox/nsnet"
)

// net/http runs unchanged over netsandbox: http.Serve on an nsnet
// listener, http.Transport dialing with nsnet.Dialer, keep-alive reuse
// across requests and a graceful Shutdown.
func TestHTTPOverNetsandbox(t *testing.T) {
	w := newWire(t)
	l, err := nsnet.Listen(w.b, "tcp", "10.0.0.2:8000")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(rw, "%s %s from %s: %d bytes", r.Method, r.URL.Path, r.RemoteAddr[:len("10.0.0.1")], len(body))
	})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	tr := &http.Transport{DialContext: (&nsnet.Dialer{Stack: w.a}).DialContext}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for i, req := range []struct{ method, body, want string }{
		{"GET", "", "GET /x from 10.0.0.1: 0 bytes"},
		{"POST", strings.Repeat("z", 200000), "POST /x from 10.0.0.1: 200000 bytes"},
		{"GET", "", "GET /x from 10.0.0.1: 0 bytes"},
	} {
		r, _ := http.NewRequest(req.method, "http://10.0.0.2:8000/x", strings.NewReader(req.body))
		resp, err := client.Do(r)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(got) != req.want {
			t.Fatalf("request %d: %q, %v; want %q", i, got, err, req.want)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; err != http.ErrServerClosed {
		t.Fatalf("Serve = %v, want http.ErrServerClosed", err)
	}
}
