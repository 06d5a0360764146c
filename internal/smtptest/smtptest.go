// Package smtptest runs a real SMTP server for tests: aiosmtpd (Debian's
// python3-aiosmtpd) driven by the embedded smtpd.py, on a free loopback
// port, with a certificate from a CA made for the test. It offers
// STARTTLS, implicit TLS or neither, requires AUTH where a submission
// server would, and stores every message it accepts with its envelope,
// which Messages reads back and Parse takes apart the way a mail client
// does.
//
// Tests of several packages (mailer, the digest command) deliver to it;
// it knows nothing of logtriage's mail.
package smtptest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

//go:embed smtpd.py
var script []byte

const (
	// python is Debian's interpreter, which has python3-aiosmtpd; another
	// python may come first on PATH.
	python = "/usr/bin/python3"

	needDeb      = ".ci/run installs the Debian package python3-aiosmtpd"
	startTimeout = 15 * time.Second // how long the server may take to start
)

var aiosmtpdCheck = sync.OnceValue(func() error {
	out, err := exec.Command(python, "-c", "import aiosmtpd").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, bytes.TrimSpace(out))
	}
	return nil
})

// Server is a running smtpd.py.
type Server struct {
	Port   int
	CAFile string // PEM of the CA that signed the server's certificate
	// User and Password are the only credentials AUTH accepts.
	User, Password string

	out  string // where the server writes N.eml and N.json
	stop func()
}

// Start runs the server in mode until the test ends:
//
//	starttls  STARTTLS required before anything else, AUTH required and
//	          only over TLS (a submission server on port 587)
//	plain     no STARTTLS, AUTH offered in clear but not required (a
//	          misconfigured or downgraded server)
//	smtps     TLS from the first byte (port 465), AUTH required
//
// The test fails, rather than skips, when python3-aiosmtpd is missing:
// a green run must mean the mail was delivered.
func Start(t testing.TB, mode string) *Server {
	t.Helper()
	if err := aiosmtpdCheck(); err != nil {
		t.Fatalf("%s with aiosmtpd is needed for this test (%s): %v", python, needDeb, err)
	}
	ca := NewCA(t)
	s := &Server{
		Port:     FreePort(t),
		CAFile:   ca.CAFile,
		User:     "digest",
		Password: "s3cret-Tr0ub4dor&3",
		out:      t.TempDir(),
	}
	// Written out per server so that the test's working directory, which
	// is its own package's, does not matter.
	py := filepath.Join(t.TempDir(), "smtpd.py")
	if err := os.WriteFile(py, script, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, py,
		"--port", strconv.Itoa(s.Port), "--mode", mode,
		"--cert", ca.CertFile, "--key", ca.KeyFile,
		"--user", s.User, "--password", s.Password, "--out", s.out)
	ready := &readyWriter{ready: make(chan struct{})}
	var stderr bytes.Buffer // read only once the process has been waited for
	cmd.Stdout = ready
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	s.stop = sync.OnceFunc(func() {
		cmd.Process.Kill()
		<-exited
	})
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("smtpd.py %s stderr:\n%s", mode, stderr.String())
		}
	})
	select {
	case <-ready.ready:
	case <-exited:
		t.Fatalf("smtpd.py %s exited before it was ready: %s", mode, stderr.String())
	case <-time.After(startTimeout):
		s.Stop()
		t.Fatalf("smtpd.py %s not ready after %v: %s", mode, startTimeout, stderr.String())
	}
	return s
}

// Stop kills the server and waits for it to exit; the port then refuses
// connections. The messages it stored stay readable. Start's cleanup
// calls it; calling it again does nothing.
func (s *Server) Stop() { s.stop() }

// URL is the server's address as an SMTP URL with scheme ("smtp" or
// "smtps"), without credentials.
func (s *Server) URL(scheme string) string {
	return fmt.Sprintf("%s://127.0.0.1:%d", scheme, s.Port)
}

// Message is one message as the server stored it: the bytes received
// after DATA and the envelope.
type Message struct {
	Raw      []byte   `json:"-"`
	MailFrom string   `json:"mail_from"`
	RcptTos  []string `json:"rcpt_tos"`
	TLS      bool     `json:"tls"`           // the transport was TLS (STARTTLS or implicit)
	Auth     bool     `json:"authenticated"` // the client authenticated
}

// Messages are what the server accepted so far, in order.
func (s *Server) Messages(t testing.TB) []Message {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(s.out, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(names, func(a, b string) int { return numOf(a) - numOf(b) })
	var out []Message
	for _, n := range names {
		var m Message
		raw, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		// smtpd.py writes N.json before it renames N.tmp to N.eml.
		meta, err := os.ReadFile(strings.TrimSuffix(n, ".eml") + ".json")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(meta, &m); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		m.Raw = raw
		out = append(out, m)
	}
	return out
}

// Only is the one message the server received; the test fails when it
// received none or several.
func (s *Server) Only(t testing.TB) Message {
	t.Helper()
	msgs := s.Messages(t)
	if len(msgs) != 1 {
		t.Fatalf("server received %d messages, want 1", len(msgs))
	}
	return msgs[0]
}

func numOf(name string) int {
	n, _ := strconv.Atoi(strings.TrimSuffix(filepath.Base(name), ".eml"))
	return n
}

// FreePort is a loopback TCP port that nothing listened on a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// readyWriter takes the server's standard output and closes ready at the
// line "ready". It is written to by one goroutine, exec's copier.
type readyWriter struct {
	ready chan struct{}
	line  []byte // the current line, while it may still be "ready"
	long  bool   // the current line is longer: not "ready"
	done  bool
}

func (w *readyWriter) Write(p []byte) (int, error) {
	for _, c := range p {
		switch {
		case w.done:
			return len(p), nil
		case c == '\n':
			if !w.long && string(w.line) == "ready" {
				w.done = true
				close(w.ready)
			}
			w.line, w.long = w.line[:0], false
		case len(w.line) < len("ready"):
			w.line = append(w.line, c)
		default:
			w.long = true
		}
	}
	return len(p), nil
}
