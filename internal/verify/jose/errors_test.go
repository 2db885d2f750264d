package jose

import (
	"fmt"
	"testing"
)

// TestKindAndShortReasonOneList: every sentinel has a kind and its own text as the short reason,
// and both functions answer from the same list.
func TestKindAndShortReasonOneList(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range sentinels {
		err := fmt.Errorf("detail: %w", s.err)
		if Kind(err) != s.kind || ShortReason(err) != s.err.Error() || seen[s.kind] {
			t.Errorf("%v: kind %q short %q", s.err, Kind(err), ShortReason(err))
		}
		seen[s.kind] = true
	}
	if Kind(nil) != "" || Kind(fmt.Errorf("x")) != "other" || ShortReason(fmt.Errorf("x")) != "invalid token" {
		t.Fatal("errors outside the list")
	}
}
