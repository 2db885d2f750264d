package credstore

import "runtime"

// filePermsMatter is false on Windows, where Unix mode bits are not how files are protected
// (the user's profile directory ACL is).
func filePermsMatter() bool { return runtime.GOOS != "windows" }
