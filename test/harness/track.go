package harness

// trackedHost and trackedSock register every socket a scenario makes, so the
// runner can close them all when the scenario ends, whatever happened.
type trackedHost struct {
	Host
	e *Env
}

func (h trackedHost) Socket(domain, typ, proto int) (Sock, error) {
	s, err := h.Host.Socket(domain, typ, proto)
	if err != nil || s == nil {
		return nil, err
	}
	return h.e.track(trackedSock{s, h.e}), nil
}

type trackedSock struct {
	Sock
	e *Env
}

func (s trackedSock) Accept(flags int) (Sock, []byte, error) {
	ns, sa, err := s.Sock.Accept(flags)
	if err != nil || ns == nil {
		return nil, sa, err
	}
	return s.e.track(trackedSock{ns, s.e}), sa, nil
}
