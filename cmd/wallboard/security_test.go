package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestHashPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		stdin   string
		wantErr string
	}{
		{"from standard input", nil, "a good long password\n", ""},
		{"without a newline", nil, "another-password", ""},
		{"too short", nil, "short\n", "at least 8 characters"},
		{"never from a flag", []string{"--password", "x"}, "", "usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := hashPassword(tt.args, strings.NewReader(tt.stdin), &out, &errOut)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			hash := strings.TrimSpace(out.String())
			if bcrypt.CompareHashAndPassword([]byte(hash), []byte(strings.TrimSpace(tt.stdin))) != nil {
				t.Errorf("printed %q does not match the password", hash)
			}
			if strings.Contains(out.String()+errOut.String(), strings.TrimSpace(tt.stdin)) {
				t.Error("the password was echoed")
			}
		})
	}
}

// serve with tls: {cert_file, key_file} answers HTTPS (HTTP/2 too) with HSTS.
func TestServeTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cfgFile := filepath.Join(dir, "wallboard.yaml")
	_ = os.WriteFile(cfgFile, []byte(fmt.Sprintf(`
listen: "127.0.0.1:0"
state_dir: %q
sources: [{name: sim, type: simulation}]
tls: {cert_file: %q, key_file: %q}
boards: [{id: floor, kiosk: [{name: tv, token: %q}]}]
`, filepath.Join(dir, "data"), certFile, keyFile, kioskToken)), 0o600)

	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--config", cfgFile}, testEnv, out, errOut) }()
	t.Cleanup(func() { cancel(); <-done })
	url := waitFor(t, errOut, regexp.MustCompile(`msg="wallboard listening" url=(https://127\.0\.0\.1:\d+)`))

	pool := x509.NewCertPool()
	pool.AddCert(mustParse(t, der))
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	resp, err := client.Get(url + "/tv/" + kioskToken)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 || !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("HTTPS: %d %s HSTS %q", resp.StatusCode, resp.Proto, resp.Header.Get("Strict-Transport-Security"))
	}
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
