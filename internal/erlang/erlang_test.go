package erlang

import (
	"math"
	"math/big"
	"testing"
)

// TestWaitProbabilityTable checks Erlang C against published values: the
// exact small cases of every Erlang C table (1 Erlang on 2 agents: 1/3; 2 on
// 3: 4/9), and the worked example of Call Centre Helper's "Erlang C formula
// – made simple" (100 calls in 30 minutes, 180 s handle time: 10 Erlangs;
// 11 agents wait with probability 0.6821 and answer 39% within 20 s; 14
// agents are the fewest for 80% within 20 s).
func TestWaitProbabilityTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		n      int
		a      float64
		wantPw float64
		tol    float64
	}{
		{"1 Erlang, 2 agents", 2, 1, 1.0 / 3, 1e-12},
		{"2 Erlangs, 3 agents", 3, 2, 4.0 / 9, 1e-12},
		{"10 Erlangs, 11 agents", 11, 10, 0.6821, 5e-5},
		{"10 Erlangs, 12 agents", 12, 10, 0.4494, 5e-5},
		{"10 Erlangs, 13 agents", 13, 10, 0.2853, 5e-5},
		{"10 Erlangs, 14 agents", 14, 10, 0.1741, 5e-5},
		{"10 Erlangs, 15 agents", 15, 10, 0.1020, 5e-5},
		{"overloaded", 10, 10, 1, 0},
		{"no traffic", 3, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WaitProbability(tt.n, tt.a); math.Abs(got-tt.wantPw) > tt.tol {
				t.Errorf("WaitProbability(%d, %g) = %.6f, want %.6f", tt.n, tt.a, got, tt.wantPw)
			}
		})
	}
}

func TestServiceLevelAndStaffing(t *testing.T) {
	t.Parallel()
	perSecond := 100.0 / 1800
	if a := Traffic(perSecond, 180); math.Abs(a-10) > 1e-9 {
		t.Fatalf("traffic %g, want 10", a)
	}
	if sl := ServiceLevel(11, 10, 180, 20); math.Abs(sl-0.3897) > 5e-4 {
		t.Errorf("service level with 11 agents %.4f, want 0.3897", sl)
	}
	if sl := ServiceLevel(13, 10, 180, 20); sl >= 0.8 {
		t.Errorf("13 agents already meet 80/20: %.4f", sl)
	}
	if sl := ServiceLevel(14, 10, 180, 20); sl < 0.8 {
		t.Errorf("14 agents do not meet 80/20: %.4f", sl)
	}
	tests := []struct {
		name                   string
		perSecond, aht, target float64
		share                  float64
		want                   int
	}{
		{"worked example, 80/20", perSecond, 180, 20, 0.8, 14},
		{"no calls", 0, 180, 20, 0.8, 0},
		{"no handle time", perSecond, 0, 20, 0.8, 0},
		{"a share of 0 still needs more agents than Erlangs", perSecond, 180, 20, 0, 11},
		{"a share of 1 is capped, not endless", perSecond, 180, 20, 1, AgentsNeeded(perSecond, 180, 20, 0.999999)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AgentsNeeded(tt.perSecond, tt.aht, tt.target, tt.share); got != tt.want {
				t.Errorf("AgentsNeeded = %d, want %d", got, tt.want)
			}
		})
	}
	if asa := AverageSpeedOfAnswer(14, 10, 180); math.Abs(asa-0.1741*180/4) > 0.01 {
		t.Errorf("ASA with 14 agents %.3f s", asa)
	}
	if !math.IsInf(AverageSpeedOfAnswer(10, 10, 180), 1) {
		t.Error("an overloaded queue has a finite ASA")
	}
}

// exact is Erlang C from its closed form in exact rationals.
func exact(n int, a *big.Rat) float64 {
	term := big.NewRat(1, 1) // a^k / k!
	sum := new(big.Rat)
	for k := 0; k < n; k++ {
		sum.Add(sum, term)
		term.Mul(term, a)
		term.Quo(term, big.NewRat(int64(k+1), 1))
	}
	nr := big.NewRat(int64(n), 1)
	top := new(big.Rat).Mul(term, new(big.Rat).Quo(nr, new(big.Rat).Sub(nr, a)))
	p, _ := new(big.Rat).Quo(top, new(big.Rat).Add(sum, top)).Float64()
	return p
}

// TestWaitProbabilityAgainstClosedForm: the recursion agrees with the
// closed form, computed exactly, over a grid up to 200 agents.
func TestWaitProbabilityAgainstClosedForm(t *testing.T) {
	t.Parallel()
	for _, a10 := range []int64{5, 37, 100, 482, 1503} {
		a := big.NewRat(a10, 10)
		af, _ := a.Float64()
		for n := int(af) + 1; n <= int(af)+12 && n <= 200; n++ {
			want := exact(n, a)
			if got := WaitProbability(n, af); math.Abs(got-want) > 1e-9 {
				t.Errorf("WaitProbability(%d, %g) = %.12f, closed form %.12f", n, af, got, want)
			}
		}
	}
}

func FuzzAgentsNeeded(f *testing.F) {
	f.Add(0.05, 180.0, 20.0, 0.8)
	f.Add(3.0, 300.0, 30.0, 0.9)
	f.Fuzz(func(t *testing.T, rate, aht, target, share float64) {
		if math.IsNaN(rate) || math.IsNaN(aht) || math.IsNaN(target) || math.IsNaN(share) || rate > 1e3 || aht > 1e4 {
			return
		}
		n := AgentsNeeded(rate, aht, target, share)
		if n < 0 || n > MaxAgents {
			t.Fatalf("AgentsNeeded(%g, %g, %g, %g) = %d", rate, aht, target, share, n)
		}
	})
}

// TestAgentsNeededAgreesWithServiceLevel: the incremental search finds the
// fewest agents whose ServiceLevel meets the share, over a grid of loads.
func TestAgentsNeededAgreesWithServiceLevel(t *testing.T) {
	t.Parallel()
	for _, perHour := range []float64{3, 40, 360, 2000, 9000} {
		for _, share := range []float64{0.5, 0.8, 0.95} {
			rate, aht, target := perHour/3600, 240.0, 20.0
			n := AgentsNeeded(rate, aht, target, share)
			a := Traffic(rate, aht)
			if ServiceLevel(n, a, aht, target) < share || (n-1 > int(a) && ServiceLevel(n-1, a, aht, target) >= share) {
				t.Errorf("%g/h, %g: AgentsNeeded = %d, not the fewest that meet it", perHour, share, n)
			}
		}
	}
}
