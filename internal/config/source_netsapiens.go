package config

import (
	"fmt"
	"slices"
)

// NetSapiens holds the options of the netsapiens source type.
type NetSapiens struct {
	Domain    string   `yaml:"domain"`
	Models    []string `yaml:"models"`
	PublicURL string   `yaml:"public_url"`
}

// NetSapiensModels are the subscription models the source can read.
var NetSapiensModels = []string{"agent", "call", "call_origid", "cdr", "presence"}

func (s *Source) validateNetSapiens(path string) Problems {
	var p Problems
	required(path, &p, map[string]string{"api_key": string(s.APIKey), "domain": s.Domain, "public_url": s.PublicURL})
	if len(s.Models) == 0 {
		s.Models = []string{"agent", "call", "cdr"}
	}
	for i, m := range s.Models {
		if !slices.Contains(NetSapiensModels, m) {
			p = append(p, fmt.Sprintf("%s.models[%d]: unknown model %q (known: agent, call, call_origid, cdr, presence)", path, i, m))
		}
	}
	return p
}
