"""A small SMTP server for logtriage's tests, built on aiosmtpd.

It listens on 127.0.0.1:PORT, checks AUTH against the given user and
password, and writes every message it accepts to OUT/N.eml (the bytes as
received) with OUT/N.json (the envelope). It prints "ready" once it
accepts connections and runs until killed. Package smtptest embeds it and
starts it (see smtptest.Start).

Modes:
  starttls  offers STARTTLS and refuses everything but EHLO, STARTTLS,
            NOOP and QUIT before it; AUTH only over TLS, and required
            (the usual submission server on port 587)
  plain     offers no STARTTLS but offers AUTH in clear (a misconfigured
            or downgraded server); takes mail without AUTH
  smtps     TLS from the first byte (port 465); AUTH required
"""

import argparse
import json
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Store:
    def __init__(self, out):
        self.out = out
        self.n = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.n += 1
            n = self.n
        base = os.path.join(self.out, "%d" % n)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            # Asked of the transport: session.ssl is set by STARTTLS only.
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "authenticated": bool(session.authenticated),
        }
        # Write under a temporary name and rename, so that a reader never
        # sees half a message.
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".tmp", base + ".eml")
        return "250 OK stored as %d.eml" % n


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--mode", choices=["starttls", "plain", "smtps"], default="starttls")
    a = p.parse_args()

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(a.cert, a.key)

    def authenticate(server, session, envelope, mechanism, data):
        ok = (
            isinstance(data, LoginPassword)
            and data.login == a.user.encode()
            and data.password == a.password.encode()
        )
        # handled=False: aiosmtpd answers 535 itself on failure.
        return AuthResult(success=ok, handled=False)

    kw = dict(
        hostname="127.0.0.1",
        port=a.port,
        server_hostname="smtpd.test",
        authenticator=authenticate,
        timeout=30,
    )
    if a.mode == "starttls":
        kw.update(tls_context=ctx, require_starttls=True, auth_required=True, auth_require_tls=True)
    elif a.mode == "plain":
        # AUTH offered in clear but not required, so that mail without
        # AUTH can still be delivered.
        kw.update(auth_required=False, auth_require_tls=False)
    else:
        # aiosmtpd only counts STARTTLS as TLS for auth_require_tls; here
        # the connection is TLS from the first byte.
        kw.update(ssl_context=ctx, auth_required=True, auth_require_tls=False)

    c = Controller(Store(a.out), **kw)
    c.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    c.stop()


if __name__ == "__main__":
    sys.exit(main())
