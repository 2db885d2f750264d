// Command pingedge is a developer access tunnel for APIs protected by Ping Identity.
package main

import (
	"os"

	"github.com/pingedge/pingedge/internal/cli"
)

// version is stamped by the release build: -ldflags "-X main.version=v1.2.3".
var version = ""

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.SystemIO(), version))
}
