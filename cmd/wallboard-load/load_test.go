package main

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
)

// TestSmokeInproc runs the load tool against an in-process wallboard with a
// few hundred subscribers for a second or two, and checks what it counts,
// not how fast anything is: every regular subscriber gets every change,
// nobody fails, and every reading subscriber (reconnecting ones included)
// ends on the newest change of every agent.
func TestSmokeInproc(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	var out bytes.Buffer
	o, err := parse([]string{"-target", "inproc", "-subs", "300", "-rate", "100", "-agents", "200", "-duration", "1500ms",
		"-reconnect", "0.05", "-reconnect-every", "500ms", "-settle", "2s", "-addrs", "3"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	res, err := runTarget(context.Background(), o, false, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	tests := []struct {
		name      string
		got, want int64
	}{
		{"failed subscribers", int64(res.Failed), 0},
		{"regular subscribers", int64(res.Regular), 285},
		{"reconnecting subscribers", int64(res.Reconnecting), 15},
		{"changes lost", res.Lost, 0},
		{"sampled subscribers", int64(res.Sampled), 285},
		{"subscribers that got every frame", int64(res.EveryFrame), 285},
		{"changes delivered directly", res.Delivered, res.Expected},
		{"duplicates", res.Dups, 0},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d\n%s", tc.name, tc.got, tc.want, out.String())
		}
	}
	// Regular subscribers must end current; a reconnecting one may be
	// between connections when the run ends.
	if res.Checked != 300 || res.Current < res.Regular {
		t.Errorf("subscribers ending current = %d of %d, want at least the %d regular ones of 300\n%s", res.Current, res.Checked, res.Regular, out.String())
	}
	if res.Expected < 285*100 {
		t.Errorf("expected receipts = %d: the driver sent too little\n%s", res.Expected, out.String())
	}
	if res.Latencies == 0 || res.P99MS <= 0 {
		t.Errorf("no latencies measured\n%s", out.String())
	}
	if res.Sessions <= int64(res.Regular+res.Reconnecting) {
		t.Errorf("sessions = %d: the reconnecting subscribers did not reconnect\n%s", res.Sessions, out.String())
	}
	if !strings.Contains(out.String(), "latency emulator send") {
		t.Errorf("report lacks the latency line:\n%s", out.String())
	}
}

// TestSmokeVendors drives each other vendor's emulator the same way, in
// process, with fewer subscribers: every change reaches every subscriber
// through that vendor's real source.
func TestSmokeVendors(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	for _, vendor := range []string{"8x8-sapi", "avaya", "netsapiens"} {
		t.Run(vendor, func(t *testing.T) {
			var out bytes.Buffer
			o, err := parse([]string{"-target", "inproc", "-vendor", vendor, "-subs", "100", "-rate", "100", "-agents", "100",
				"-duration", "1s", "-settle", "1s", "-addrs", "2"}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			res, err := runTarget(context.Background(), o, false, &out)
			if err != nil {
				t.Fatalf("run: %v\n%s", err, out.String())
			}
			tests := []struct {
				name      string
				got, want int64
			}{
				{"failed subscribers", int64(res.Failed), 0},
				{"regular subscribers", int64(res.Regular), 100},
				{"changes lost", res.Lost, 0},
				{"sampled subscribers", int64(res.Sampled), 100},
				{"subscribers that got every frame", int64(res.EveryFrame), 100},
				{"changes delivered directly", res.Delivered, res.Expected},
				{"subscribers ending current", int64(res.Current), 100},
				{"duplicates", res.Dups, 0},
			}
			for _, tc := range tests {
				if tc.got != tc.want {
					t.Errorf("%s = %d, want %d\n%s", tc.name, tc.got, tc.want, out.String())
				}
			}
			if res.Expected < 100*90 || res.Latencies == 0 {
				t.Errorf("expected receipts = %d, latencies %d: the driver sent too little\n%s", res.Expected, res.Latencies, out.String())
			}
			if res.Vendor != vendor || !strings.Contains(out.String(), "-vendor "+vendor) {
				t.Errorf("result vendor %q; the report must name it:\n%s", res.Vendor, out.String())
			}
			t.Log(out.String())
		})
	}
}

// TestSubprocessConfig: the file the subprocess reads is valid for every
// vendor and carries the same sources and board as the in-process target.
func TestSubprocessConfig(t *testing.T) {
	for _, v := range vendors {
		t.Run(v.name, func(t *testing.T) {
			o, err := parse([]string{"-vendor", v.name, "-agents", "3", "-others", "2"}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			up, err := newUpstream(o)
			if err != nil {
				t.Fatal(err)
			}
			defer up.close()
			want := wallboardConfig(up, "127.0.0.1:7777", t.TempDir(), 100*time.Millisecond)
			y := yamlConfig(want)
			got, err := config.Parse([]byte(y), func(string) string { return "" })
			if err != nil {
				t.Fatalf("%v\n%s", err, y)
			}
			if probs := want.Validate(); len(probs) > 0 {
				t.Fatal(probs)
			}
			if len(got.Sources) != len(want.Sources) || len(got.Sources) == 0 {
				t.Fatalf("%d sources, want %d\n%s", len(got.Sources), len(want.Sources), y)
			}
			for i := range want.Sources {
				if !reflect.DeepEqual(got.Sources[i], want.Sources[i]) {
					t.Errorf("source %d:\n got %+v\nwant %+v\n%s", i, got.Sources[i], want.Sources[i], y)
				}
			}
			if got.Sources[0].Type != v.sourceType {
				t.Errorf("type %q, want %q", got.Sources[0].Type, v.sourceType)
			}
			if !reflect.DeepEqual(got.Boards[0].Queues, want.Boards[0].Queues) || !reflect.DeepEqual(got.Boards[0].Sources, want.Boards[0].Sources) {
				t.Errorf("board %+v, want %+v", got.Boards[0], want.Boards[0])
			}
		})
	}
}

func TestHistogramQuantiles(t *testing.T) {
	tests := []struct {
		name    string
		samples []time.Duration
		q       float64
		want    time.Duration
		tol     float64
	}{
		{"single small", []time.Duration{40 * time.Microsecond}, 0.5, 40 * time.Microsecond, 0},
		{"median of three", []time.Duration{time.Millisecond, 50 * time.Millisecond, time.Second}, 0.5, 50 * time.Millisecond, 0.02},
		{"max", []time.Duration{time.Millisecond, 50 * time.Millisecond, 3 * time.Second}, 1, 3 * time.Second, 0.02},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &histogram{}
			for i, d := range tc.samples {
				h.add(i, d)
			}
			n, qs := h.quantiles(tc.q)
			if n != int64(len(tc.samples)) {
				t.Fatalf("n = %d", n)
			}
			if diff := float64(qs[0]-tc.want) / float64(tc.want); diff > tc.tol || diff < -tc.tol {
				t.Errorf("q%g = %s, want %s (±%.0f%%)", tc.q, qs[0], tc.want, tc.tol*100)
			}
		})
	}
	for b := 1; b < 32*64; b++ {
		if bucketValue(b) <= bucketValue(b-1) || bucketOf(bucketValue(b)) != b {
			t.Fatalf("bucket %d: value %s, back to %d", b, bucketValue(b), bucketOf(bucketValue(b)))
		}
	}
}

// TestBaselineFrameCarriesMarkers: the baseline's frames parse like
// wallboard's, one change per card.
func TestBaselineFrameCarriesMarkers(t *testing.T) {
	sh := &shared{agents: 10, sendAt: make([]atomic.Int64, 100), hist: &histogram{}}
	sh.measure.Store(true)
	s := newSubscriber(0, kindRegular, nil, sh)
	frame := baselineFrame(7, [][2]int64{{3, 14}, {4, 15}}, time.Now())
	for _, line := range strings.Split(string(frame), "\n") {
		s.markers([]byte(line), false, time.Now().UnixNano())
	}
	if got := sh.receipts.Load(); got != 2 {
		t.Fatalf("receipts = %d, want 2 in %q", got, frame)
	}
	if d, _ := s.counts(14, 15); d != 2 {
		t.Errorf("direct = %d, want 2", d)
	}
}

func TestParseVendor(t *testing.T) {
	if o, err := parse(nil, io.Discard); err != nil || o.vendor != "8x8-stream" {
		t.Errorf("default vendor %q (%v), want 8x8-stream", o.vendor, err)
	}
	_, err := parse([]string{"-vendor", "genesys"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "8x8-sapi, avaya, netsapiens") {
		t.Errorf("unknown vendor: %v", err)
	}
}
