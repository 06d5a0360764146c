package smtptest

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"
)

// Parsed is a message taken apart with net/mail and mime/multipart, the
// way a mail client reads it.
type Parsed struct {
	From, To    string // addresses as "Name <addr>" or "addr", joined by ", "
	Subject     string // RFC 2047 decoded
	MessageID   string
	MIMEVersion string
	Type        string // the media type of the message, without parameters
	Date        time.Time
	Parts       []Part // of a multipart message, in order
}

// Part is one part of a multipart message.
type Part struct {
	Type     string // the Content-Type field, parameters included
	Encoding string // the Content-Transfer-Encoding field
	Body     string // decoded, with LF line ends
}

// Parse reads raw as a client would: header fields decoded (RFC 2047),
// the multipart body split and each part's transfer encoding undone.
// Line ends in the decoded bodies are made LF, as the message was
// written. A message a client could not read fails the test.
func Parse(t testing.TB, raw []byte) Parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, raw)
	}
	h := msg.Header
	var p Parsed
	dec := &mime.WordDecoder{}
	if p.Subject, err = dec.DecodeHeader(h.Get("Subject")); err != nil {
		t.Fatalf("decode Subject %q: %v", h.Get("Subject"), err)
	}
	p.From = addrList(t, h, "From")
	p.To = addrList(t, h, "To")
	if p.Date, err = h.Date(); err != nil {
		t.Fatalf("Date %q: %v", h.Get("Date"), err)
	}
	p.MessageID = h.Get("Message-ID")
	p.MIMEVersion = h.Get("MIME-Version")
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
	}
	p.Type = mt
	if !strings.HasPrefix(mt, "multipart/") {
		return p
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		mp, err := mr.NextRawPart() // raw: NextPart would hide quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		enc := mp.Header.Get("Content-Transfer-Encoding")
		var r io.Reader = mp
		switch strings.ToLower(enc) {
		case "quoted-printable":
			r = quotedprintable.NewReader(mp)
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, mp) // it skips the line breaks
		}
		body, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("part %s (%s): %v", mp.Header.Get("Content-Type"), enc, err)
		}
		p.Parts = append(p.Parts, Part{
			Type:     mp.Header.Get("Content-Type"),
			Encoding: enc,
			Body:     strings.ReplaceAll(string(body), "\r\n", "\n"),
		})
	}
	return p
}

func addrList(t testing.TB, h mail.Header, key string) string {
	t.Helper()
	as, err := h.AddressList(key)
	if err != nil {
		t.Fatalf("%s %q: %v", key, h.Get(key), err)
	}
	var s []string
	for _, a := range as {
		if a.Name == "" {
			s = append(s, a.Address)
		} else {
			s = append(s, a.Name+" <"+a.Address+">")
		}
	}
	return strings.Join(s, ", ")
}

// HeaderLines is the message's header section, unfolded: one string per
// field, as received (not decoded). Tests count fields with it, which
// net/mail's map hides.
func HeaderLines(raw []byte) []string {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	var out []string
	for _, l := range strings.Split(string(head), "\r\n") {
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(out) > 0 {
			out[len(out)-1] += l
			continue
		}
		out = append(out, l)
	}
	return out
}
