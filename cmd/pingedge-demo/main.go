// Command pingedge-demo runs `pingedge demo`: a local OpenID issuer, an API behind the edge
// gateway, a real login and a tunnel, all on loopback. It is pingedge built with -tags demo, a
// separate binary so the provider it embeds stays out of the pingedge that holds refresh tokens
// (docs/dependencies.md, "What ships").
package main

import (
	"os"

	"github.com/pingedge/pingedge/internal/cli"
)

// version is stamped by the release build: -ldflags "-X main.version=v1.2.3".
var version = ""

func main() {
	os.Exit(cli.Main(append([]string{"demo"}, os.Args[1:]...), cli.SystemIO(), version))
}
