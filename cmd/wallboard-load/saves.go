package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// boardSaver saves another board through the boards API at a steady rate
// while the load runs (-board-saves): the board "other", which no
// subscriber watches, gets a new waiting threshold each time, so every save
// changes its definition and resets its (empty) streams.
type boardSaver struct {
	wg     sync.WaitGroup
	saves  int
	errors int
	first  error // the first failure, for the report
}

func (s *boardSaver) fail(err error) {
	s.errors++
	if s.first == nil {
		s.first = err
	}
}

func startBoardSaves(base string, rate float64, d time.Duration) *boardSaver {
	s := &boardSaver{}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		c := &http.Client{Timeout: 10 * time.Second}
		call := func(method, path string, body any) (map[string]any, error) {
			var rd io.Reader
			if body != nil {
				b, _ := json.Marshal(body)
				rd = bytes.NewReader(b)
			}
			req, _ := http.NewRequest(method, base+path, rd)
			req.Header.Set("Authorization", "Bearer "+apiToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(req)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode/100 != 2 {
				return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
			}
			var m map[string]any
			_ = json.Unmarshal(raw, &m)
			return m, nil
		}
		board := map[string]any{"id": "other", "title": "Other board"}
		m, err := call("POST", "/api/v1/boards", board)
		if err != nil {
			s.fail(err)
			return
		}
		version, _ := m["version"].(float64)
		every := time.Duration(float64(time.Second) / rate)
		t := time.NewTicker(every)
		defer t.Stop()
		end := time.Now().Add(d)
		for i := 1; time.Now().Before(end); i++ {
			<-t.C
			board["version"] = int64(version)
			board["thresholds"] = map[string]any{"waiting": map[string]any{"warn": i%50 + 1}}
			m, err := call("PUT", "/api/v1/boards/other", board)
			if err != nil {
				s.fail(err)
				// Read the version again: a save that timed out here may
				// have been made there.
				if cur, err := call("GET", "/api/v1/boards/other", nil); err == nil {
					version, _ = cur["version"].(float64)
				}
				continue
			}
			version, _ = m["version"].(float64)
			s.saves++
		}
	}()
	return s
}

// wait returns once the saves have ended, with how many were made and
// failed.
func (s *boardSaver) wait() (saves, errors int, first error) {
	s.wg.Wait()
	return s.saves, s.errors, s.first
}
