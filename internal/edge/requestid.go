package edge

import (
	"crypto/rand"
	"encoding/hex"
)

// maxRequestIDLen bounds a client-sent request id: it lands in every audit line.
const maxRequestIDLen = 128

// requestID keeps a sane client-sent id (so a trace started upstream continues) and stamps a
// random one otherwise. Sane means 1..128 visible ASCII characters: nothing that could break
// a log line or a header.
func requestID(sent string) string {
	if saneID(sent) {
		return sent
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

func saneID(s string) bool {
	if s == "" || len(s) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
