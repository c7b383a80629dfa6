"""SMTP server for the email notifier tests, built on aiosmtpd.

Listens on 127.0.0.1 on a port the kernel picks, prints "PORT <n>" on stdout, and writes each
accepted message to DIR as <n>.eml (the DATA as received) and <n>.json (the envelope and the
session: mail_from, rcpt_tos, ehlo, tls, auth_login).
"""

import argparse
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class StoringHandler:
    def __init__(self, folder, rejections, data_delay):
        self.folder = folder
        self.rejections = rejections
        self.data_delay = data_delay
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.rejections.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_delay > 0:
            await asyncio.sleep(self.data_delay)
        self.count += 1
        base = os.path.join(self.folder, str(self.count))
        with open(base + ".eml.tmp", "wb") as out:
            out.write(envelope.original_content or envelope.content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "ehlo": session.host_name,
            # session.ssl is set by STARTTLS only; implicit TLS shows on the transport.
            "tls": (session.ssl is not None
                    or server.transport.get_extra_info("ssl_object") is not None),
            "auth_login": session.auth_data.login.decode() if session.authenticated else None,
        }
        with open(base + ".json.tmp", "w") as out:
            json.dump(meta, out)
        # The .eml appears last, so a reader that sees it finds the .json too.
        os.rename(base + ".json.tmp", base + ".json")
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 Message accepted for delivery"


def make_authenticator(login, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == login.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    return authenticate


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", required=True, help="folder for received messages")
    parser.add_argument("--starttls-cert", help="PEM certificate; enables STARTTLS")
    parser.add_argument("--starttls-key", help="PEM key of --starttls-cert")
    parser.add_argument("--smtps", action="store_true",
                        help="implicit TLS with the STARTTLS certificate instead of STARTTLS")
    parser.add_argument("--auth", help="LOGIN:PASSWORD that AUTH accepts; AUTH is then required")
    parser.add_argument("--reject", action="append", default=[],
                        help="ADDRESS=REPLY, e.g. 'gone@example.com=550 5.1.1 no such user'")
    parser.add_argument("--data-delay", type=float, default=0,
                        help="seconds to wait before answering DATA")
    args = parser.parse_args()

    rejections = {}
    for item in args.reject:
        address, reply = item.split("=", 1)
        rejections[address.lower()] = reply
    handler = StoringHandler(args.dir, rejections, args.data_delay)

    context = None
    if args.starttls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.starttls_cert, args.starttls_key)

    options = {"hostname": "smtp.test", "ident": "alertd test SMTP"}
    if context is not None and not args.smtps:
        options["tls_context"] = context
        options["require_starttls"] = False
    if args.auth:
        login, password = args.auth.split(":", 1)
        options["authenticator"] = make_authenticator(login, password)
        options["auth_required"] = True
        options["auth_require_tls"] = False

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(handler, **options), "127.0.0.1", 0,
            ssl=context if args.smtps else None)
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        async with server:
            await server.serve_forever()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
