package server

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

var b64 = base64.RawURLEncoding.EncodeToString

// ecJWKS is a key set with key's public half as kid k1; grow makes its x
// coordinate that many bytes longer than the curve allows.
func ecJWKS(t *testing.T, key *ecdsa.PublicKey, crv string, grow int) []byte {
	t.Helper()
	// The uncompressed point (SEC 1): 0x04, then x and y of the curve's
	// size each.
	pt, err := key.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	size := (len(pt) - 1) / 2
	x := append(make([]byte, grow), pt[1:1+size]...)
	if grow > 0 {
		x[0] = 1
	}
	b, _ := json.Marshal(map[string]any{"keys": []map[string]string{{"kty": "EC", "kid": "k1", "use": "sig", "crv": crv,
		"x": b64(x), "y": b64(pt[1+size:])}}})
	return b
}

// ecSigner signs with key under header alg, with hash h and the signature
// halves of size bytes: what the header claims need not fit the key.
func ecSigner(t *testing.T, key *ecdsa.PrivateKey, alg string, h crypto.Hash, size int) func(hdr, claims map[string]any) string {
	return func(hdr, claims map[string]any) string {
		hdr["alg"], hdr["kid"] = alg, "k1"
		enc := func(v any) string { b, _ := json.Marshal(v); return b64(b) }
		signed := enc(hdr) + "." + enc(claims)
		hh := h.New()
		hh.Write([]byte(signed))
		r, s, err := ecdsa.Sign(rand.Reader, key, hh.Sum(nil))
		if err != nil {
			t.Fatal(err)
		}
		return signed + "." + b64(append(r.FillBytes(make([]byte, size)), s.FillBytes(make([]byte, size))...))
	}
}

// The ID token checks that go-oidc brings beyond the forged tokens of
// TestOIDCRefusesBadTokens: the ES algorithm bound to the key's curve,
// crit, a key set that cannot be read, and times that are not numbers.
func TestOIDCRefusesMoreForgedTokens(t *testing.T) {
	t.Parallel()
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	tests := []struct {
		name  string
		setup func(t *testing.T, p *testIdP)
		want  int
	}{
		{"a good ES256 token", func(t *testing.T, p *testIdP) {
			p.jwks, p.signer = ecJWKS(t, &p256.PublicKey, "P-256", 0), ecSigner(t, p256, "ES256", crypto.SHA256, 32)
		}, 303},
		{"ES256 on a P-384 key", func(t *testing.T, p *testIdP) {
			p.jwks, p.signer = ecJWKS(t, &p384.PublicKey, "P-384", 0), ecSigner(t, p384, "ES256", crypto.SHA256, 48)
		}, 401},
		{"an EC coordinate longer than its curve", func(t *testing.T, p *testIdP) {
			p.jwks, p.signer = ecJWKS(t, &p256.PublicKey, "P-256", 8), ecSigner(t, p256, "ES256", crypto.SHA256, 32)
		}, 401},
		{"a crit header we do not understand", func(t *testing.T, p *testIdP) {
			p.mutate = func(c, h map[string]any) {
				h["crit"] = []string{"urn:example:must-understand"}
				h["urn:example:must-understand"] = true
			}
		}, 401},
		{"nbf not a number", func(t *testing.T, p *testIdP) {
			p.mutate = func(c, h map[string]any) { c["nbf"] = "tomorrow" }
		}, 401},
		{"iat not a number", func(t *testing.T, p *testIdP) {
			p.mutate = func(c, h map[string]any) { c["iat"] = "now" }
		}, 401},
		{"nbf in an hour", func(t *testing.T, p *testIdP) {
			p.mutate = func(c, h map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() }
		}, 401},
		{"iat in an hour", func(t *testing.T, p *testIdP) {
			p.mutate = func(c, h map[string]any) { c["iat"] = time.Now().Add(time.Hour).Unix() }
		}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			idp := newTestIdP(t)
			idp.groups = []string{"wb-admins"}
			tt.setup(t, idp)
			ts := newSecServer(t, oidcConfig(idp.URL))
			resp, body := oidcSignIn(t, newBrowser(t, ts.URL))
			if resp.StatusCode != tt.want {
				t.Errorf("callback = %d, want %d: %s", resp.StatusCode, tt.want, excerpt(body, "login-error"))
			}
		})
	}
}

// A provider account named like a local one gets none of its boards:
// provider users are "oidc:"-prefixed for board access.
func TestOIDCNamesAreApartFromLocalAccounts(t *testing.T) {
	t.Parallel()
	idp := newTestIdP(t)
	idp.user = "sue" // the local supervisor on the private board's list
	ts := newSecServer(t, oidcConfig(idp.URL))
	b := newBrowser(t, ts.URL)
	if resp, _ := oidcSignIn(t, b); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/boards/private", nil); resp.StatusCode != 403 {
		t.Errorf("provider's sue opened the local sue's board: %d", resp.StatusCode)
	}
	if resp, page := b.do("GET", "/boards/floor", nil); resp.StatusCode != 200 || !strings.Contains(page, "sue · viewer") {
		t.Errorf("provider's sue on the open board: %d %s", resp.StatusCode, excerpt(page, "userbar"))
	}
	if resp, _ := signedIn(t, ts.URL, "sue").do("GET", "/boards/private", nil); resp.StatusCode != 200 {
		t.Errorf("local sue: %d", resp.StatusCode)
	}
}

// A provider whose key set hangs delays only the sign-in that waits for
// it: no network call is made under a lock that other sign-ins need.
func TestOIDCSlowProviderStallsNoOtherSignIn(t *testing.T) {
	t.Parallel()
	idp := newTestIdP(t)
	gate := make(chan struct{})
	t.Cleanup(func() { close(gate) })
	idp.gate = gate // the key set hangs from the start
	ts := newSecServer(t, oidcConfig(idp.URL))
	stuck := newBrowser(t, ts.URL)
	resp, _ := stuck.do("GET", "/auth/oidc/start", nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("start: %d", resp.StatusCode)
	}
	authz, err := stuck.c.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	authz.Body.Close()
	cb, _ := url.Parse(authz.Header.Get("Location"))
	stuckDone := make(chan struct{})
	go func() {
		defer close(stuckDone)
		req, _ := http.NewRequest("GET", ts.URL+"/auth/oidc/callback?"+cb.RawQuery, nil)
		c := *stuck.c
		c.Timeout = 4 * time.Second
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	// Once the stuck sign-in waits for the key set, another user's start
	// and a local sign-in answer at once.
	time.Sleep(500 * time.Millisecond)
	other := newBrowser(t, ts.URL)
	other.c.Timeout = 2 * time.Second
	req, _ := http.NewRequest("GET", ts.URL+"/auth/oidc/start", nil)
	if resp, err := other.c.Do(req); err != nil {
		t.Errorf("another sign-in's start waited for the hanging key set: %v", err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Errorf("another sign-in's start: %d", resp.StatusCode)
		}
	}
	if resp := newBrowser(t, ts.URL).login("vic", password); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("local sign-in meanwhile: %d", resp.StatusCode)
	}
	<-stuckDone
}
