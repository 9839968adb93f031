package gateway

import (
	"encoding/binary"
	"unsafe"
)

// unsafePointer views b's first byte; callers check the length first.
func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(&b[0]) }

// nativeInt reads a cmsg's int in host byte order (little endian on every
// platform netsandbox builds for).
func nativeInt(b []byte) int32 { return int32(binary.NativeEndian.Uint32(b)) }
