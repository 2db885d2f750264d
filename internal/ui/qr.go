package ui

import (
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// QR renders content as a terminal QR code, two modules per character cell (half blocks), with
// the quiet zone QR readers need. Light modules are drawn as blocks so the code reads on the dark
// backgrounds most terminals have. ok is false when the code is wider than maxCols or cannot be
// encoded: callers then show only the URL.
func QR(content string, maxCols int) (string, bool) {
	q, err := qrcode.New(content, qrcode.Low)
	if err != nil {
		return "", false
	}
	bm := q.Bitmap() // true = dark module; includes the 4-module quiet zone
	if len(bm) == 0 || len(bm[0]) > maxCols {
		return "", false
	}
	var b strings.Builder
	for y := 0; y < len(bm); y += 2 {
		for x := range bm[y] {
			top := bm[y][x]
			bottom := y+1 < len(bm) && bm[y+1][x]
			b.WriteString(halfBlock(top, bottom))
		}
		b.WriteByte('\n')
	}
	return b.String(), true
}

func halfBlock(topDark, bottomDark bool) string {
	switch {
	case !topDark && !bottomDark:
		return "█"
	case !topDark:
		return "▀"
	case !bottomDark:
		return "▄"
	}
	return " "
}
