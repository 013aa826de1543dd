"""A local stand-in for Twilio's Messages endpoint, on loopback: checks the path, Basic auth and the
form fields as Twilio would, keeps what it accepted, and can be told to fail."""
import base64
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "stand-in-auth-token-5f1c"
FROM = "+61400000001"
REFUSED_NUMBER = "+61400000999"
E164 = re.compile(r"^(whatsapp:)?\+[1-9][0-9]{6,14}$")


class TwilioStandIn:
    def __init__(self):
        self.accepted = []          # (To, From, Body)
        self.accepted_by = []       # the account SID each was sent with
        self.accounts = {ACCOUNT_SID: AUTH_TOKEN}  # SID -> auth token; a clinic's own may be added
        self.arrivals = []          # time.monotonic() of each acceptance
        self.requests = 0
        self.fail_next = 0          # answer 503 to this many requests first
        self.delay = 0.0            # seconds to wait before each answer: a slow provider
        self.lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                if stand_in.delay:
                    time.sleep(stand_in.delay)
                with stand_in.lock:
                    stand_in.requests += 1
                    path = re.fullmatch(r"/2010-04-01/Accounts/([A-Za-z0-9]+)/Messages\.json", self.path)
                    if not path or path.group(1) not in stand_in.accounts:
                        return self.answer(404, {"code": 20404, "message": "not found"})
                    sid = path.group(1)
                    expected = "Basic " + base64.b64encode(("%s:%s" % (sid, stand_in.accounts[sid])).encode()).decode()
                    if self.headers.get("Authorization") != expected:
                        return self.answer(401, {"code": 20003, "message": "authenticate"})
                    if self.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
                        return self.answer(400, {"code": 21000, "message": "form expected"})
                    to, sender, body = (form.get(name, [None])[0] for name in ("To", "From", "Body"))
                    if not (to and sender and body) or not E164.match(to) or not E164.match(sender):
                        return self.answer(400, {"code": 21604, "message": "To, From and Body are required, in E.164"})
                    if stand_in.fail_next > 0:
                        stand_in.fail_next -= 1
                        return self.answer(503, {"code": 20500, "message": "service unavailable"})
                    if to.endswith(REFUSED_NUMBER):
                        return self.answer(400, {"code": 21211, "message": "The 'To' number is not a valid phone number."})
                    stand_in.accepted.append((to, sender, body))
                    stand_in.accepted_by.append(sid)
                    stand_in.arrivals.append(time.monotonic())
                    return self.answer(201, {"sid": "SM%032x" % len(stand_in.accepted), "status": "queued"})

        class Server(ThreadingHTTPServer):
            # The standard backlog of 5 drops connections a concurrent sender opens at once,
            # which then wait a second for TCP to try again: the stand-in, not the server, would be measured.
            request_queue_size = 128
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def base_env(self):
        """Only where the provider is: no operator account (clinics bring their own)."""
        return {"CLINICKEEP_TWILIO_BASE_URL": "http://127.0.0.1:%d" % self.port}

    def env(self):
        return {"CLINICKEEP_SMS_PROVIDER": "twilio", "CLINICKEEP_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "CLINICKEEP_TWILIO_AUTH_TOKEN": AUTH_TOKEN, "CLINICKEEP_SMS_FROM": FROM,
                "CLINICKEEP_TWILIO_BASE_URL": "http://127.0.0.1:%d" % self.port}

    def to(self, number):
        with self.lock:
            return [entry for entry in self.accepted if entry[0] == number]
