package workerbundle

import (
	"testing"

	"github.com/pingedge/pingedge/internal/edgecases"
)

// TestWorkerTable runs the shared request table against the bundle in real workerd, with the
// real provider's tokens and an origin on loopback.
func TestWorkerTable(t *testing.T) {
	op := startOP(t)
	origin := edgecases.EchoOrigin(t)
	rw := startWorker(t, writePolicy(t, op), origin.URL, ConfigOptions{Allow: AllowFor(origin.URL, op.Issuer())})
	edgecases.Run(t, rw.url, edgecases.Mint(t, op))
}
