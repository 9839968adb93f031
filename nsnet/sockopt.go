package nsnet

import (
	"netsandbox/endpoint"
	"netsandbox/options"
)

func setInt(s endpoint.Socket, level, name, v int) error {
	var b [4]byte
	options.PutInt32(b[:], int32(v))
	return s.SetSockOpt(level, name, b[:])
}

func getInt(s endpoint.Socket, level, name int) (int, error) {
	var b [4]byte
	n, err := s.GetSockOpt(level, name, b[:])
	if err != nil {
		return 0, err
	}
	if n < 4 {
		return int(b[0]), nil // a 1-byte IP option value (PutIPInt)
	}
	return int(options.Int32(b[:])), nil
}

func boolInt(on bool) int {
	if on {
		return 1
	}
	return 0
}
