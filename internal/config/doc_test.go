package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestConfigReferenceNamesEveryField keeps docs/config.md complete: every YAML key of File,
// Profile and Route appears there as `key` (issue 12 item 6).
func TestConfigReferenceNamesEveryField(t *testing.T) {
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []reflect.Type{reflect.TypeOf(File{}), reflect.TypeOf(Profile{}), reflect.TypeOf(Route{})} {
		for i := range typ.NumField() {
			key, _, _ := strings.Cut(typ.Field(i).Tag.Get("yaml"), ",")
			if key == "" || key == "-" {
				continue
			}
			if !strings.Contains(string(doc), "| `"+key+"` |") {
				t.Errorf("docs/config.md has no row for %s.%s (`%s`)", typ.Name(), typ.Field(i).Name, key)
			}
		}
	}
}
