package config

import "fmt"

// Avaya holds the options of the Avaya Experience Platform source types
// (avaya-engagement, avaya-analytics).
type Avaya struct {
	// avaya-analytics: one subscription per measure producer.
	MeasureProducers []string `yaml:"measure_producers"`
}

func (s *Source) validateAvaya(path string) Problems {
	var p Problems
	required(path, &p, map[string]string{"account_id": s.AccountID, "client_id": s.ClientID,
		"client_secret": string(s.ClientSecret), "app_key": string(s.AppKey)})
	if s.Type == TypeAvayaAnalytics && len(s.MeasureProducers) == 0 {
		p = append(p, fmt.Sprintf("%s.measure_producers: missing (name at least one producer, like \"Queue_itd_1.0.0\")", path))
	}
	return p
}
