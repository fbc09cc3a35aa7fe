package axp

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: a
// session's reader and control pings end before it returns.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
