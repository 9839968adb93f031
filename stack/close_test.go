package stack_test

import (
	"testing"

	"netsandbox/stack"
)

// Bindings may outlive the stack (a socket closed after the sandbox's
// network): Release, Connect and SendUDP must not panic then.
func TestUseAfterClose(t *testing.T) {
	s, err := stack.New(stack.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.UDPBind(newRecorder(), ap("127.0.0.1:5000"), stack.UDPBindFlags{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	_ = b.Connect(ap("127.0.0.1:5001"))
	_ = s.SendUDP(&stack.UDPSend{Src: ap("127.0.0.1:5000"), Dst: ap("127.0.0.1:5001")})
	b.Release()
	b.Release()
}
