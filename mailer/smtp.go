package mailer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// SMTP says how to reach a mail server.
type SMTP struct {
	// URL is smtp://host[:port] (submission, port 587 by default, with
	// STARTTLS as StartTLS says) or smtps://host[:port] (TLS from the
	// first byte, port 465 by default). A user may be given in the URL,
	// a password may not: it would show in ps and in shell histories.
	URL string
	// User and Password authenticate (AUTH PLAIN or LOGIN) when User is
	// set, only ever over TLS.
	User, Password string
	// StartTLS applies to smtp:// URLs: "required" (the default) fails
	// when the server offers no STARTTLS, "opportunistic" goes on in
	// clear (without AUTH), "none" never starts TLS (and so cannot
	// authenticate).
	StartTLS string
	// CAFile is a PEM file of certificate authorities to trust besides
	// the system's, for an internal relay.
	CAFile string
	// Timeout bounds the whole delivery: connecting, TLS, AUTH and the
	// transfer. Zero means DefaultTimeout.
	Timeout time.Duration
}

// DefaultTimeout is the delivery time limit when SMTP.Timeout is zero.
const DefaultTimeout = time.Minute

// ErrAuthWithoutTLS is returned, wrapped, instead of sending a password
// over a connection that is not encrypted.
var ErrAuthWithoutTLS = errors.New("refusing to send the SMTP password over an unencrypted connection")

// server is an SMTP after checking.
type server struct {
	host     string
	port     int
	implicit bool // smtps://
	policy   gomail.TLSPolicy
	user     string
	tls      *tls.Config
}

func (s server) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// Check validates the URL, StartTLS, the credentials and CAFile without
// connecting; its errors name the flag at fault. Send calls it too.
func (c SMTP) Check() error {
	_, err := c.server()
	return err
}

func (c SMTP) server() (server, error) {
	var s server
	if c.URL == "" {
		return s, errors.New("--smtp: empty URL")
	}
	shown := redactURL(c.URL)
	u, err := url.Parse(c.URL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the whole URL, password included
		}
		return s, fmt.Errorf("--smtp %q: %w", shown, err)
	}
	bad := func(format string, a ...any) (server, error) {
		return s, fmt.Errorf("--smtp %q: %s", shown, fmt.Sprintf(format, a...))
	}
	switch u.Scheme {
	case "smtp":
		s.port = 587
	case "smtps":
		s.port, s.implicit = 465, true
	case "":
		return bad("no scheme: want smtp://host[:port] or smtps://host[:port]")
	default:
		return bad("scheme %q not supported: want smtp:// or smtps://", u.Scheme)
	}
	if u.Opaque != "" {
		return bad("want %s://host[:port]", u.Scheme)
	}
	if _, set := u.User.Password(); set {
		return bad("no password in the URL (ps and shell histories show it): use --smtp-password-file or LOGTRIAGE_SMTP_PASSWORD")
	}
	if u.Path != "" && u.Path != "/" {
		return bad("unexpected path %q: want %s://host[:port]", u.Path, u.Scheme)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return bad("unexpected query or fragment: want %s://host[:port]", u.Scheme)
	}
	s.host = u.Hostname()
	if s.host == "" {
		return bad("no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return bad("port %q out of range", p)
		}
		s.port = n
	}

	s.user = c.User
	if uu := u.User.Username(); uu != "" {
		if s.user != "" && s.user != uu {
			return bad("user %q differs from --smtp-user %q", uu, s.user)
		}
		s.user = uu
	}
	if s.user == "" && c.Password != "" {
		return s, errors.New("--smtp-password given without a user: set --smtp-user or a user in --smtp")
	}

	switch c.StartTLS {
	case "", "required":
		s.policy = gomail.TLSMandatory
	case "opportunistic":
		s.policy = gomail.TLSOpportunistic
	case "none":
		s.policy = gomail.NoTLS
	default:
		return s, fmt.Errorf("--smtp-starttls %q: want required, opportunistic or none", c.StartTLS)
	}
	if s.implicit && s.policy != gomail.TLSMandatory {
		return s, fmt.Errorf("--smtp-starttls %s: smtps:// is TLS from the start; STARTTLS applies to smtp:// only", c.StartTLS)
	}
	// Credentials never travel in clear, not even to a relay on loopback:
	// a rule with no exception is one an operator can rely on, and a local
	// relay that wants AUTH can offer STARTTLS or take mail without AUTH.
	if s.user != "" && s.policy == gomail.NoTLS {
		return s, fmt.Errorf("--smtp-starttls none with user %q: %w; use STARTTLS or smtps://", s.user, ErrAuthWithoutTLS)
	}

	s.tls = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pool, err := loadCAs(c.CAFile)
		if err != nil {
			return s, err
		}
		s.tls.RootCAs = pool
	}
	return s, nil
}

// loadCAs is the system's roots plus those in file.
func loadCAs(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--smtp-ca: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--smtp-ca %s: no PEM certificate in it", file)
	}
	return pool, nil
}

// redactURL hides the password part of a URL's user information, for
// error messages. It works on the raw text, since the URL may not parse.
func redactURL(s string) string {
	rest := s
	prefix := ""
	if i := strings.Index(s, "://"); i >= 0 {
		prefix, rest = s[:i+3], s[i+3:]
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndexByte(rest[:end], '@')
	if at < 0 {
		return s
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return s
	}
	return prefix + user + ":xxxxx" + rest[at:]
}

// Send delivers m to the server c describes. It connects (ctx and
// c.Timeout bound everything, not only the dial), starts TLS as c says,
// authenticates when a user is set, and sends. Errors never contain the
// password.
func Send(ctx context.Context, c SMTP, m Message) error {
	s, err := c.server()
	if err != nil {
		return err
	}
	msg, err := compose(m)
	if err != nil {
		return err
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("no delivery within %v: %w", timeout, context.DeadlineExceeded))
	defer cancel()

	// go-mail bounds each command with a deadline but watches ctx only
	// while dialling. Closing the connection when ctx ends makes a blocked
	// read or write return at once; and as ctx ends when Send returns
	// (cancel above), it also closes the connection that go-mail leaves
	// open when the greeting, STARTTLS or AUTH fails.
	dial := func(dctx context.Context, network, address string) (net.Conn, error) {
		d := &net.Dialer{}
		var conn net.Conn
		var err error
		if s.implicit {
			// A *tls.Conn, so that go-mail's SMTP client knows it is
			// encrypted.
			conn, err = (&tls.Dialer{NetDialer: d, Config: s.tls}).DialContext(dctx, network, address)
		} else {
			conn, err = d.DialContext(dctx, network, address)
		}
		if err != nil {
			return nil, err
		}
		context.AfterFunc(ctx, func() { conn.Close() })
		return conn, nil
	}
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		// ctx enforces the limit; go-mail's own deadlines, a little
		// later, only back it up, so that a timeout reads the same
		// wherever it strikes.
		gomail.WithTimeout(timeout + time.Second),
		gomail.WithTLSConfig(s.tls),
		gomail.WithTLSPolicy(s.policy),
		gomail.WithDialContextFunc(dial),
	}
	if s.implicit {
		opts = append(opts, gomail.WithSSL())
	}
	if s.user != "" {
		opts = append(opts, gomail.WithSMTPAuthCustom(&tlsAuth{user: s.user, password: c.Password, host: s.host}))
	}
	client, err := gomail.NewClient(s.host, opts...)
	if err == nil {
		err = client.DialAndSendWithContext(ctx, msg)
	}
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		// The connection was closed under go-mail; its error says only that.
		err = context.Cause(ctx)
	}
	return redact(fmt.Errorf("smtp %s: %w", s.addr(), err), c.Password)
}

// redact removes password from err's text. go-mail does not put the
// password in its errors, but a server's reply is free text and this is
// the one place that guarantees it.
func redact(err error, password string) error {
	if password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "xxxxx"))
}

// tlsAuth is AUTH PLAIN, or LOGIN when the server offers only that, over
// TLS only. go-mail's own choice lets PLAIN through in clear to a server
// named localhost or 127.0.0.1, and would not know that a connection we
// dialled with TLS is encrypted.
type tlsAuth struct {
	user, password, host string
	mech                 smtp.Auth // chosen by Start
}

func (a *tlsAuth) Start(si *smtp.ServerInfo) (string, []byte, error) {
	if !si.TLS {
		return "", nil, ErrAuthWithoutTLS
	}
	switch {
	case slices.Contains(si.Auth, "PLAIN"):
		a.mech = smtp.PlainAuth("", a.user, a.password, a.host, false)
	case slices.Contains(si.Auth, "LOGIN"):
		a.mech = smtp.LoginAuth(a.user, a.password, a.host, false)
	default:
		return "", nil, fmt.Errorf("server offers AUTH %q, not PLAIN or LOGIN", strings.Join(si.Auth, " "))
	}
	return a.mech.Start(si)
}

func (a *tlsAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	return a.mech.Next(fromServer, more)
}

// Credentials resolves the SMTP user and password the way the CLI takes
// them: the --smtp-user flag, else $LOGTRIAGE_SMTP_USER; the
// --smtp-password flag, else the first line of --smtp-password-file, else
// $LOGTRIAGE_SMTP_PASSWORD. Giving both password flags is an error.
// getenv is os.Getenv (injected for tests).
//
// A password file that other users may read or write is refused, as ssh
// refuses such a key: it is no secret any more, and a warning in a cron
// mail is easy to miss. Group access is allowed, so that a root-owned
// file can be given to the service's group (0640 root:logtriage).
func Credentials(user, password, passwordFile string, getenv func(string) string) (string, string, error) {
	if user == "" {
		user = getenv("LOGTRIAGE_SMTP_USER")
	}
	switch {
	case password != "" && passwordFile != "":
		return "", "", errors.New("--smtp-password and --smtp-password-file: choose one")
	case password != "":
		return user, password, nil
	case passwordFile != "":
		p, err := readPasswordFile(passwordFile)
		return user, p, err
	}
	return user, getenv("LOGTRIAGE_SMTP_PASSWORD"), nil
}

func readPasswordFile(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", fmt.Errorf("--smtp-password-file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("--smtp-password-file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("--smtp-password-file %s: not a regular file", name)
	}
	if perm := fi.Mode().Perm(); perm&0o007 != 0 {
		return "", fmt.Errorf("--smtp-password-file %s: mode %04o lets other users read or change it; chmod o-rwx %s", name, perm, name)
	}
	// A password is one short line; read a little more than any real one
	// so that a wrong file (a log, a binary) cannot fill memory.
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", fmt.Errorf("--smtp-password-file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", fmt.Errorf("--smtp-password-file %s: first line is empty", name)
	}
	return line, nil
}
