package server

import (
	"os"
	"testing"

	"github.com/wallboard/wallboard/internal/database/dbtest"
)

// The package's tests share one throwaway PostgreSQL (internal/database/dbtest).
func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }
