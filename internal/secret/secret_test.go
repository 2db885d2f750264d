package secret

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestStringNeverPrints(t *testing.T) {
	const v = "eyJhbGciOiJSUzI1NiJ9.payload.sig"
	s := String(v)
	tok := AccessToken{Value: s}
	outs := []string{
		fmt.Sprint(s), fmt.Sprintf("%v %s %q %x %#v %+v", s, s, s, s, s, s),
		fmt.Sprintf("%v %+v %#v", tok, tok, tok),
		fmt.Errorf("wrap: %w", errors.New(fmt.Sprint(s))).Error(),
	}
	b, _ := json.Marshal(map[string]any{"t": s, "tok": tok})
	outs = append(outs, string(b))
	for _, o := range outs {
		if strings.Contains(o, v) || strings.Contains(o, "payload") {
			t.Fatalf("secret leaked: %s", o)
		}
	}
	if s.Reveal() != v {
		t.Fatal("Reveal must return the value")
	}
}
