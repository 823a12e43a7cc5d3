"""A real SMTP server for agent/notify's tests: aiosmtpd on loopback.

usage: smtpd.py PORT DIR [--tls CERT KEY --user USER --password-file FILE]

With --tls it offers STARTTLS and requires it before anything else
(require_starttls), and requires AUTH (over TLS only) from USER with the
password in FILE. Each message is saved to DIR/<n>.eml; each AUTH attempt
appends "mechanism=M tls=True|False ok=True|False" to DIR/auth.log.
"""
import argparse
import os
import ssl
import threading
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("dir")
ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
ap.add_argument("--user")
ap.add_argument("--password-file")
args = ap.parse_args()


class Handler:
    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(args.dir, uuid.uuid4().hex)
        with open(name + ".tmp", "wb") as f:
            f.write(b"X-Test-Rcpt: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content or envelope.content)
        os.rename(name + ".tmp", name + ".eml")
        return "250 OK saved"


def authenticator(server, session, envelope, mechanism, auth_data):
    with open(args.password_file, "rb") as f:
        password = f.read()
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login == args.user.encode()
          and auth_data.password == password)
    with open(os.path.join(args.dir, "auth.log"), "a") as f:
        f.write("mechanism=%s tls=%s ok=%s\n" % (mechanism, session.ssl is not None, ok))
    return AuthResult(success=ok, handled=False)


kw = {}
if args.tls:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.tls[0], args.tls[1])
    kw = dict(tls_context=ctx, require_starttls=True, authenticator=authenticator,
              auth_required=True, auth_require_tls=True)

controller = Controller(Handler(), hostname="127.0.0.1", port=args.port, **kw)
controller.start()
print("ready", flush=True)
threading.Event().wait()
