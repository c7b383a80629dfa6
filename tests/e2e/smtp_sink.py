"""An aiosmtpd handler that appends every received message to a JSON Lines file.

Run by the end-to-end tests as
  /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c smtp_sink.RecordingHandler OUT.jsonl
with this folder on PYTHONPATH. Each line is {"mail_from", "rcpt_tos", "data"}, with `data`
the message as received (headers and body, CRLF line ends). The test reads the file while the
server runs, so every line is flushed as soon as it is written.
"""

import json
import threading


class RecordingHandler:
    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("smtp_sink.RecordingHandler takes one argument: the output file")
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": envelope.content.decode("utf-8", errors="replace"),
        }
        with self._lock, open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
            out.flush()
        return "250 Message accepted for delivery"


def read_messages(path):
    """Returns the recorded messages, oldest first; an absent file means none yet."""
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []
