// Package mailer composes logtriage's mail and delivers it, over SMTP or
// through a local sendmail program.
//
// It knows nothing of reports or incidents: the caller hands it plain
// values (addresses, a subject, a text and an HTML body). Only the Subject
// may carry log content, and composing makes it header-safe; the addresses
// come from flags and are validated.
package mailer

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os/exec"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one mail, in plain values.
type Message struct {
	From    string   // one address, as for --mail-from: "ops@example.com" or "Ops <ops@example.com>"
	To      []string // one or more addresses, as for --mail-to
	Subject string   // may hold log content: cleaned and truncated (see Subject)
	Text    []byte   // the text/plain part, UTF-8
	HTML    []byte   // the text/html part, UTF-8; already escaped by its renderer
	Date    time.Time
	// Incidents, when above zero, is written as X-Logtriage-Incidents so
	// that mail filters can sort digests without parsing the subject.
	Incidents int
}

// Check validates the addresses with net/mail.ParseAddress; its errors
// name the flag they came from. WriteTo, Send and Sendmail call it too;
// the CLI may call it first to fail before reading any log.
func (m Message) Check() error {
	_, _, err := m.addresses()
	return err
}

func (m Message) addresses() (*mail.Address, []*mail.Address, error) {
	from, err := parseAddress("--mail-from", m.From)
	if err != nil {
		return nil, nil, err
	}
	if len(m.To) == 0 {
		return nil, nil, errors.New("--mail-to: no recipient")
	}
	to := make([]*mail.Address, 0, len(m.To))
	for _, s := range m.To {
		a, err := parseAddress("--mail-to", s)
		if err != nil {
			return nil, nil, err
		}
		to = append(to, a)
	}
	return from, to, nil
}

// parseAddress accepts one RFC 5322 address. Non-ASCII addresses are
// refused: they need SMTPUTF8 end to end, which a cron mail to an
// operator should not depend on (a display name may be non-ASCII).
func parseAddress(flag, s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", flag, s, err)
	}
	for i := 0; i < len(a.Address); i++ {
		if a.Address[i] >= 0x80 {
			return nil, fmt.Errorf("%s %q: non-ASCII addresses are not supported", flag, s)
		}
	}
	return a, nil
}

// WriteTo writes the composed message (RFC 5322, CRLF line ends), as it
// would be sent.
func (m Message) WriteTo(w io.Writer) (int64, error) {
	msg, err := compose(m)
	if err != nil {
		return 0, err
	}
	return msg.WriteTo(w)
}

// compose builds the go-mail message: From, To, Subject, Date,
// Message-ID, MIME-Version, Auto-Submitted, optionally
// X-Logtriage-Incidents, and a multipart/alternative body with a
// text/plain and a text/html part, both UTF-8 and quoted-printable.
func compose(m Message) (*gomail.Msg, error) {
	from, to, err := m.addresses()
	if err != nil {
		return nil, err
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(from)
	msg.ToMailAddress(to...)
	// cleanHeader removes everything that could end the header or start
	// another; go-mail RFC 2047-encodes non-ASCII.
	subject := truncate(cleanHeader(m.Subject), MaxSubject)
	if strings.Contains(subject, "=?") {
		subject = encodeWords(subject)
	}
	msg.Subject(subject)
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	msg.SetDateWithValue(date)
	id, err := messageID(from.Address)
	if err != nil {
		return nil, err
	}
	msg.SetMessageIDWithValue(id)
	// RFC 3834: auto-responders and vacation programs must not answer.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	if m.Incidents > 0 {
		msg.SetGenHeader("X-Logtriage-Incidents", strconv.Itoa(m.Incidents))
	}
	msg.SetBodyString(gomail.TypeTextPlain, string(m.Text))
	msg.AddAlternativeString(gomail.TypeTextHTML, string(m.HTML))
	return msg, nil
}

// messageID is a random left part at the sender's domain: the domain is
// already validated by net/mail, unlike os.Hostname, which may be a bare
// name or anything an administrator typed.
func messageID(addr string) (string, error) {
	var r [16]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("message-id: %w", err)
	}
	domain := addr[strings.LastIndexByte(addr, '@')+1:]
	return "logtriage." + hex.EncodeToString(r[:]) + "@" + domain, nil
}

// SendmailPath is the program Sendmail runs when given no path.
const SendmailPath = "/usr/sbin/sendmail"

// sendmailTimeout bounds a sendmail run even when the caller's context
// has no deadline: a wedged local MTA must not hold a cron job forever.
const sendmailTimeout = 5 * time.Minute

// maxStderr is how much of a failing sendmail's output goes into the error.
const maxStderr = 512

// Sendmail delivers m through a sendmail-compatible program (Postfix,
// Exim, msmtp, OpenSMTPD…): it runs "PATH -oi -t", which reads the
// recipients from the To header, and writes the message on its standard
// input with local (LF) line ends. ctx cancels the run, which is anyway
// limited to five minutes. A failure's error carries what the program
// printed, cleaned of control characters and cut short.
func Sendmail(ctx context.Context, path string, m Message) error {
	if path == "" {
		path = SendmailPath
	}
	msg, err := compose(m)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return fmt.Errorf("compose mail: %w", err)
	}
	// The message is 7-bit (quoted-printable bodies, encoded headers), so
	// every CR is part of a CRLF line end.
	body := bytes.ReplaceAll(buf.Bytes(), []byte("\r\n"), []byte("\n"))

	ctx, cancel := context.WithTimeout(ctx, sendmailTimeout)
	defer cancel()
	out := &capWriter{max: 4 * maxStderr}
	cmd := exec.CommandContext(ctx, path, "-oi", "-t")
	cmd.Stdin = bytes.NewReader(body)
	cmd.Stdout = out
	cmd.Stderr = out
	// A child that keeps the pipes open after being killed must not keep
	// us waiting.
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	msgText := truncate(cleanHeader(out.String()), maxStderr)
	if msgText == "" {
		return fmt.Errorf("sendmail %s: %w", path, err)
	}
	return fmt.Errorf("sendmail %s: %w: %s", path, err, msgText)
}

// capWriter keeps the first max bytes written to it and drops the rest,
// so that a chatty program cannot grow memory.
type capWriter struct {
	buf bytes.Buffer
	max int
}

func (w *capWriter) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (w *capWriter) String() string { return w.buf.String() }
