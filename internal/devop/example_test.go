package devop_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pingedge/pingedge/internal/devop"
)

// A test starts a provider, points its client at Issuer(), and uses the
// switches to stage failures.
func ExampleStart() {
	ctx := context.Background()
	op, err := devop.Start(ctx, devop.Config{AccessTokenTTL: 3 * time.Second, SigningAlg: "ES256"})
	if err != nil {
		panic(err)
	}
	defer op.Close()

	fmt.Println(strings.HasPrefix(op.Issuer(), "http://127.0.0.1:"))
	fmt.Println(op.ClientID(), op.Audience())

	// A token for verifier tests, signed with the key the JWKS serves.
	tok, err := op.MintAccessToken(map[string]any{"sub": "alice", "aud": op.Audience(), "roles": []string{"engineer"}}, time.Minute)
	fmt.Println(err == nil && strings.Count(tok, ".") == 2)

	op.RotateKey()         // JWKS now serves the new and the previous key
	op.SetDown(true)       // every endpoint answers 503
	op.SetDown(false)      // back up
	op.RevokeUser("alice") // every refresh token of alice dies
	fmt.Println(op.Stats().JWKSFetches)
	// Output:
	// true
	// pingedge-cli [https://api.example.com]
	// true
	// 0
}
