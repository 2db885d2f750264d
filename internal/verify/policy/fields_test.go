package policy

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestPolicyReferenceNamesEveryField: each field is named once, by its yaml tag, and that name is
// what policyfile.Parse reads and what docs/policy.md documents. A new exported field of Policy or
// Rule must carry a tag (or yaml:"-" when no file sets it), and the reference must have its row.
func TestPolicyReferenceNamesEveryField(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []reflect.Type{reflect.TypeOf(Policy{}), reflect.TypeOf(Rule{})} {
		for i := range typ.NumField() {
			f := typ.Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			switch {
			case !f.IsExported() || key == "-":
			case key == "":
				t.Errorf("%s.%s has no yaml tag: name its policy key once, on the struct", typ.Name(), f.Name)
			case !strings.Contains(string(doc), "| `"+key+"` |"):
				t.Errorf("docs/policy.md has no row for %s.%s (`%s`)", typ.Name(), f.Name, key)
			}
		}
	}
}
