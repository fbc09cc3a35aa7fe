// Package vendors links every source type into a program: each vendor
// package registers its types with internal/source when it is imported.
// A program that builds sources from a configuration imports this package
// (cmd/wallboard, cmd/wallboard-load); adding a vendor adds its import here.
package vendors

import (
	_ "github.com/wallboard/wallboard/internal/source/axp"        // avaya-engagement, avaya-analytics
	_ "github.com/wallboard/wallboard/internal/source/netsapiens" // netsapiens
	_ "github.com/wallboard/wallboard/internal/source/pulsar"     // 8x8-stream
	_ "github.com/wallboard/wallboard/internal/source/sapi"       // 8x8-sapi
	_ "github.com/wallboard/wallboard/internal/vendorsim"         // simulation
)
