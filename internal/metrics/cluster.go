package metrics

import "github.com/prometheus/client_golang/prometheus"

// ClusterStats is what a replica reports of the cluster (cluster: set).
type ClusterStats struct {
	Leader     bool    // this replica holds the lease
	LagSeconds float64 // how far behind the stream it is
	Applied    uint64  // the last stream position applied
	Changes    int64   // leaders seen taking over
	Fenced     uint64  // a former leader's messages dropped
	Ready      bool
}

var (
	descClusterLeader = prometheus.NewDesc("wallboard_cluster_leader",
		"1 while this replica leads (holds the vendor subscriptions), else 0.", nil, nil)
	descClusterLag = prometheus.NewDesc("wallboard_cluster_lag_seconds",
		"How far this replica is behind the event stream: the age, in the stream's time, of the oldest message it has not applied.", nil, nil)
	descClusterApplied = prometheus.NewDesc("wallboard_cluster_applied_position",
		"The last position of the event stream this replica applied.", nil, nil)
	descClusterChanges = prometheus.NewDesc("wallboard_cluster_leader_changes_total",
		"Leaders this replica has seen take over (its own takeovers included).", nil, nil)
	descClusterFenced = prometheus.NewDesc("wallboard_cluster_fenced_messages_total",
		"Messages of a former leader dropped because a newer leader had already published.", nil, nil)
	descClusterReady = prometheus.NewDesc("wallboard_cluster_ready",
		"1 while this replica is ready (connected to NATS and caught up with the stream).", nil, nil)
)

var clusterDescs = []*prometheus.Desc{descClusterLeader, descClusterLag, descClusterApplied, descClusterChanges, descClusterFenced, descClusterReady}

func (s *scrape) collectCluster(ch chan<- prometheus.Metric) {
	if s.in.Cluster == nil {
		return
	}
	st := s.in.Cluster()
	ch <- prometheus.MustNewConstMetric(descClusterLeader, prometheus.GaugeValue, b2f(st.Leader))
	ch <- prometheus.MustNewConstMetric(descClusterLag, prometheus.GaugeValue, st.LagSeconds)
	ch <- prometheus.MustNewConstMetric(descClusterApplied, prometheus.GaugeValue, float64(st.Applied))
	ch <- prometheus.MustNewConstMetric(descClusterChanges, prometheus.CounterValue, float64(st.Changes))
	ch <- prometheus.MustNewConstMetric(descClusterFenced, prometheus.CounterValue, float64(st.Fenced))
	ch <- prometheus.MustNewConstMetric(descClusterReady, prometheus.GaugeValue, b2f(st.Ready))
}
