package edgecases

// Cases is the table: decisions (allow, 401 with the RFC 6750 challenge, 403), public paths,
// identity-header stripping under every spelling, and path confusion.
func Cases() []Case {
	invalid := `error="invalid_token"`
	tok := func(pick func(Tokens) string) func(Tokens) map[string]string { return bearer(pick) }
	cs := []Case{
		{Name: "engineer reads the api", Path: "/api/items", Header: alice, Status: 200, OriginPath: "/api/items",
			OriginHeader: map[string]string{"X-Auth-User": "alice", "X-Auth-Email": "alice@example.com", "X-Auth-Roles": "engineer"}},
		{Name: "admin reads admin", Path: "/admin/users", Header: bob, Status: 200, OriginHeader: map[string]string{"X-Auth-User": "bob"}},
		{Name: "no token", Path: "/api/items", Header: none, Status: 401, Challenge: "Bearer"},
		{Name: "basic auth is not a bearer token", Path: "/api/items", Header: hdr("Authorization", "Basic YTpi"), Status: 401, Challenge: "Bearer"},
		{Name: "tampered signature", Path: "/api/items", Header: tok(func(t Tokens) string { return t.Tampered }), Status: 401, Challenge: invalid},
		{Name: "wrong audience", Path: "/api/items", Header: tok(func(t Tokens) string { return t.WrongAudience }), Status: 401, Challenge: invalid},
		{Name: "expired", Path: "/api/items", Header: tok(func(t Tokens) string { return t.Expired }), Status: 401, Challenge: invalid},
		{Name: "not a jwt", Path: "/api/items", Header: hdr("Authorization", "Bearer abc.def.ghi"), Status: 401, Challenge: invalid},
		{Name: "engineer is not admin", Path: "/admin/users", Header: alice, Status: 403},
		{Name: "default deny", Path: "/elsewhere", Header: bob, Status: 403},
		{Name: "public without token", Path: "/public/info", Header: none, Status: 200, OriginPath: "/public/info"},
		{Name: "spoofed identity stripped", Path: "/api/items", Header: spoof, Status: 200,
			OriginHeader: map[string]string{"X-Auth-User": "alice", "X-Auth-Roles": "engineer", "X-Auth-Email": "alice@example.com", "X-Request-Id": "trace-42"}},
		{Name: "public path strips credentials", Path: "/public/info", Header: spoof, Status: 200,
			OriginHeader: map[string]string{"Authorization": "", "X-Auth-User": "", "X-Auth-Roles": ""}},
		{Name: "query kept", Path: "/api/items?q=1", Header: alice, Status: 200, OriginPath: "/api/items"},
		{Name: "post allowed", Method: "POST", Path: "/api/items", Header: alice, Status: 200},
	}
	for _, p := range confusion() {
		cs = append(cs, p)
	}
	for i := range cs {
		if cs[i].Method == "" {
			cs[i].Method = "GET"
		}
	}
	return cs
}

// confusion: paths that decode or resolve to a protected one are decided on the path an
// origin would see, and the origin gets that normalised path.
func confusion() []Case {
	c := func(path string, h func(Tokens) map[string]string, status int, origin string) Case {
		k := Case{Name: "path " + path, Path: path, Header: h, Status: status, OriginPath: origin}
		if status == 401 {
			k.Challenge = "Bearer"
		}
		return k
	}
	return []Case{
		c("/api/../admin/users", alice, 403, ""),
		c("/api/%2e%2e/admin/users", alice, 403, ""),
		c("/api/.%2E/admin/users", alice, 403, ""),
		c("/./admin/users", alice, 403, ""),
		c("//admin/users", alice, 403, ""),
		c("/api/..%2Fadmin/users", alice, 400, ""),
		c("/api/%2F../admin", alice, 400, ""),
		c("/api/..%5Cadmin", alice, 400, ""),
		c(`/api/..\admin`, alice, 400, ""),
		c("/public/../admin/users", none, 401, ""),
		c("/public/%2e%2e/api/items", none, 401, ""),
		c("/public/..%2fapi", none, 400, ""),
		c("/%61dmin/users", alice, 403, ""),
		c("/api/./items//x", alice, 200, "/api/items/x"),
		c("/api/%69tems", alice, 200, "/api/items"),
		c("/api/items/%C3%A9", alice, 200, "/api/items/é"),
		c("/api/../../../admin", alice, 403, ""),
	}
}

func hdr(k, v string) func(Tokens) map[string]string {
	return func(Tokens) map[string]string { return map[string]string{k: v} }
}

func spoof(tk Tokens) map[string]string {
	return map[string]string{
		"Authorization": "Bearer " + tk.Alice,
		"X-Auth-User":   "mallory", "x-auth-roles": "admin", "X_Auth_Email": "mallory@evil.example",
		"X-Auth_User": "mallory", "X-Request-Id": "trace-42",
	}
}
