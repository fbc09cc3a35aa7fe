package netsapiens_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// The subscription id is the webhook's credential: when the API fails, it
// appears in no status detail, last error or log line, and screens get
// the status's fixed summary only.
func TestFailingAPIShowsNoSubscriptionID(t *testing.T) {
	t.Parallel()
	r := newRig(t, vendorsim.NetSapiensOptions{})
	rn := r.start(t, r.config("ns1"), r.st)
	rn.waitStatus(t, event.StatusLive)
	var ids []string
	for _, s := range r.emu.Subscriptions() {
		ids = append(ids, s.ID)
	}
	if len(ids) == 0 {
		t.Fatal("no subscriptions")
	}
	r.emu.Close() // every call fails from now on: GET /subscriptions/{id} first
	rn.waitStatus(t, event.StatusDegraded)
	st := rn.rep.Stats()
	for _, id := range ids {
		for what, text := range map[string]string{"detail": st.Detail, "last error": st.LastError, "summary": st.Summary} {
			if strings.Contains(text, id) {
				t.Errorf("%s carries subscription id %s: %q", what, id, text)
			}
		}
	}
	if !strings.Contains(st.Detail, "subscription") {
		t.Errorf("detail %q no longer says what failed", st.Detail)
	}
	for _, e := range rn.sink.All() {
		if e.Kind == event.SourceStatus && e.Detail != source.Summary(e.Status) {
			t.Errorf("status event for screens carries %q, want the summary %q", e.Detail, source.Summary(e.Status))
		}
	}
}

// A reporter redacts what it was told to, and URLs' credentials and query
// strings, in the detail, the last error and its log.
func TestReporterRedacts(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	sk := newSink()
	rep := source.NewReporter("ns1", "netsapiens", sk, slog.New(slog.NewTextHandler(&logs, nil)))
	rep.Redact("sub-secret-1")
	rep.Detail(`failed to call GET /subscriptions/sub-secret-1: Get "https://u:pw@api.example/x?token=abc": refused`)
	st := rep.Stats()
	for _, bad := range []string{"sub-secret-1", "pw@", "token=abc"} {
		if strings.Contains(st.Detail, bad) {
			t.Errorf("detail %q carries %q", st.Detail, bad)
		}
	}
	if !strings.Contains(st.Detail, "api.example/x") {
		t.Errorf("detail %q lost the host", st.Detail)
	}
	if strings.Contains(logs.String(), "sub-secret-1") {
		t.Errorf("log carries the secret: %s", logs.String())
	}
}
