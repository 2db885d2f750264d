package cli

// classifyLogin maps login errors (session expired, not logged in) to exit code 4.
// Filled in by the login command; until then nothing maps.
func classifyLogin(err error) (int, string, bool) { return 0, "", false }
