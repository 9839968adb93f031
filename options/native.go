package options

import "encoding/binary"

// nativeEndian is the byte order of C integers in the structs a program
// passes (struct fields other than addresses and ports).
var nativeEndian = binary.NativeEndian

// sizeofInt is sizeof(int) in the Linux ABI on every supported target.
const sizeofInt = 4
