package login

import (
	"html/template"
	"io"
	"log"
	"net/http"
)

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pingedge</title>
<style>body{font-family:system-ui,sans-serif;margin:4em auto;max-width:32em;color:#222}
h1{font-size:1.3em}.ok{color:#1a7f37}.fail{color:#cf222e}</style></head>
<body><h1 class="{{if .OK}}ok{{else}}fail{{end}}">{{if .OK}}Signed in{{else}}Sign-in failed{{end}}</h1>
<p>{{.Message}}</p></body></html>
`))

// writePage answers the browser with a small page. It never echoes a request parameter.
func writePage(w http.ResponseWriter, status int, ok bool, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer") // the URL of this page carries the code
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, struct {
		OK      bool
		Message string
	}{ok, msg})
}

// discardLog silences net/http's server log: its lines could quote a request URL with a code.
func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }
