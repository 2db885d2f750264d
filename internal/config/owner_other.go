//go:build !unix

package config

import "io/fs"

// ownerUID: no Unix owner on this platform (Windows protects the profile directory by ACL).
func ownerUID(fs.FileInfo) (int, bool) { return 0, false }
