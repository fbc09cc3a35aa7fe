package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestClusterAPI(t *testing.T) {
	t.Parallel()
	seen := time.Date(2026, 12, 3, 22, 0, 0, 0, time.UTC)
	replicas := func(ready bool) func(*Options) {
		return func(o *Options) {
			o.Cluster = func() ClusterStatus {
				return ClusterStatus{Node: "wb2", Leader: "wb1", Ready: ready, Why: "behind the stream", LagSeconds: 7,
					Nodes: []ClusterNode{{Name: "wb1", Leader: true, LastSeenAt: seen, Applied: 42}, {Name: "wb2", LastSeenAt: seen, Applied: 40}}}
			}
		}
	}
	tests := []struct {
		name       string
		more       func(*Options)
		header     []string
		status     int
		wantNode   string
		wantLeader string
		wantNodes  int
		readyz     int
	}{
		{name: "anonymous", header: nil, status: http.StatusUnauthorized, readyz: http.StatusOK},
		{name: "single process", header: []string{"Authorization", "Bearer api-0123456789abcdef"}, status: 200, wantNodes: 1, readyz: http.StatusOK},
		{name: "replica behind", more: replicas(false), header: []string{"Authorization", "Bearer api-0123456789abcdef"}, status: 200,
			wantNode: "wb2", wantLeader: "wb1", wantNodes: 2, readyz: http.StatusServiceUnavailable},
		{name: "replica caught up", more: replicas(true), header: []string{"Authorization", "Bearer api-0123456789abcdef"}, status: 200,
			wantNode: "wb2", wantLeader: "wb1", wantNodes: 2, readyz: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			more := tt.more
			if more == nil {
				more = func(*Options) {}
			}
			ts, rep, _ := newTestServerWith(t, false, nil, more)
			rep.Live()
			resp := do(t, "GET", ts.URL+"/api/v1/cluster", tt.header...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == 200 {
				var got struct {
					Node   string `json:"node"`
					Leader string `json:"leader"`
					Nodes  []struct {
						Name       string    `json:"name"`
						Leader     bool      `json:"leader"`
						LastSeenAt time.Time `json:"last_seen_at"`
						Applied    uint64    `json:"applied"`
					} `json:"nodes"`
				}
				if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
					t.Fatal(err)
				}
				if len(got.Nodes) != tt.wantNodes || got.Node == "" || got.Leader == "" {
					t.Fatalf("got %+v", got)
				}
				if tt.wantNode == "" { // a single process is its own leader
					if got.Leader != got.Node || !got.Nodes[0].Leader || got.Nodes[0].Name != got.Node {
						t.Errorf("single process: %+v", got)
					}
				} else if got.Node != tt.wantNode || got.Leader != tt.wantLeader || got.Nodes[0].Applied != 42 || !got.Nodes[0].Leader ||
					!got.Nodes[0].LastSeenAt.Equal(seen) || got.Nodes[1].Leader {
					t.Errorf("replicas: %+v", got)
				}
			}
			if r := do(t, "GET", ts.URL+"/readyz"); r.StatusCode != tt.readyz {
				t.Errorf("/readyz %d, want %d", r.StatusCode, tt.readyz)
			}
		})
	}
}

func TestAdminShowsReplicas(t *testing.T) {
	t.Parallel()
	ts, rep, _ := newTestServerWith(t, true, nil, func(o *Options) {
		o.Cluster = func() ClusterStatus {
			return ClusterStatus{Node: "wb2", Leader: "wb1", Applied: 40, StreamLast: 42, LagSeconds: 7.5, Why: "behind the stream",
				Nodes: []ClusterNode{{Name: "wb1", Leader: true, Applied: 42}, {Name: "wb2", Applied: 40}}}
		}
	})
	rep.Live()
	b, _ := io.ReadAll(do(t, "GET", ts.URL+"/admin").Body)
	body := string(b)
	for _, want := range []string{`data-testid="admin-cluster"`, "This is wb2", "wb1 leads", "through 40 of 42, 7.5 s behind",
		`data-testid="admin-cluster-problem"`, "Not ready: behind the stream", "<td>wb1</td>", "<td>wb2</td>"} {
		if !strings.Contains(body, want) {
			t.Errorf("/admin lacks %q", want)
		}
	}
	// A single process has no replicas section.
	ts1, rep1, _ := newTestServer(t, true, nil)
	rep1.Live()
	b, _ = io.ReadAll(do(t, "GET", ts1.URL+"/admin").Body)
	if strings.Contains(string(b), "admin-cluster") {
		t.Error("a single process shows a replicas section")
	}
}
