package pulsar

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: a
// session's pinger, cursor saver and closer end before its Run returns.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
