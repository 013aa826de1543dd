#!/usr/bin/env python3
"""How fast the outbox drains, and whether a slow provider slows bookings (issue 23's measure).

Starts the release server with SMS through a local stand-in of Twilio's Messages endpoint
(e2e/sms_provider.py, on loopback), books N appointments while the clinic sends nothing, then
switches SMS on: the scheduler queues N reminders in one run and the delivery worker sends them.
Reports messages/s between the first and the last arrival at the provider. Then books 200 more
appointments (each queues a confirmation) with the provider answering at once and again with the
provider taking half a second per message, and reports booking latency for both.
Standard library only; writes one JSON file.
"""
import argparse
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from http_load import Server, say  # noqa: E402
from sms_provider import TwilioStandIn  # noqa: E402


def call(server, session, method, path, body=None):
    headers = {"Cookie": session["cookie"], "X-CSRF-Token": session["csrf"]}
    status, _, data = server.request(method, path, body, headers=headers)
    return status, (json.loads(data) if data else None)


def sign_up(server):
    owner = {"email": "bench-owner@outbox.example", "name": "Bench Owner", "password": "a long bench password 7c1e"}
    status, _, body = server.request("POST", "/api/v1/clinics", {"name": "Outbox Bench Clinic", "owner": owner})
    if status != 201:
        raise SystemExit(f"sign-up answered {status}: {body[:200]!r}")
    clinic, user = json.loads(body)["clinic"]["id"], json.loads(body)["user"]["id"]

    def log_in():
        status, headers, body = server.request("POST", "/api/v1/auth/login", {"email": owner["email"], "password": owner["password"]})
        if status != 200:
            raise SystemExit(f"sign-in answered {status}")
        cookie = "; ".join(v.split(";", 1)[0] for k, v in headers if k.lower() == "set-cookie")
        return {"cookie": cookie, "csrf": json.loads(body)["csrfToken"]}

    # The owner sees patients too: a small practice's usual shape. A change of roles ends the
    # session, so sign in again after it.
    status, body = call(server, log_in(), "PATCH", f"/api/v1/clinics/{clinic}/staff/{user}", {"roles": ["owner", "practitioner"]})
    if status != 200:
        raise SystemExit(f"changing roles answered {status}: {body}")
    return clinic, user, log_in()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--out")
    args = parser.parse_args()

    provider = TwilioStandIn().start()
    work = tempfile.mkdtemp(prefix="clinickeep-outbox-bench-")
    env = dict(os.environ, CLINICKEEP_SCHEDULER_INTERVAL="1s", CLINICKEEP_THROTTLE_DELAY_MS="0", CLINICKEEP_LOG_LEVEL="warning",
               CLINICKEEP_SIGNUP="open", CLINICKEEP_BCRYPT_COST="10",
               **provider.env())
    env.pop("DATABASE_URL", None)
    server = Server(os.path.join(args.bin_dir, "clinickeep"), work, env)
    server.start()
    try:
        clinic, me, session = sign_up(server)
        base = f"/api/v1/clinics/{clinic}"
        quiet = {"channels": [], "quietHours": {"start": "00:00", "end": "00:00"}, "reminderLeadHours": [336]}
        assert call(server, session, "PUT", base + "/settings/communications", quiet)[0] == 200
        status, kind = call(server, session, "POST", base + "/appointment-types", {"name": "Visit", "durationMinutes": 5})
        assert status == 201, kind
        status, patient = call(server, session, "POST", base + "/patients",
                               {"givenName": "Bench", "familyName": "Patient", "phone": "0412 000 111"})
        assert status == 201, patient
        start = int(time.time() // 300 * 300) + 3600

        def book(i):
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + i * 300))
            began = time.monotonic()
            status, body = call(server, session, "POST", base + "/appointments", {
                "patientId": patient["id"], "practitionerId": me, "appointmentTypeId": kind["id"], "startsAt": at})
            if status != 201:
                raise SystemExit(f"booking {i} answered {status}: {body}")
            return time.monotonic() - began

        say(f"==> booking {args.messages} appointments while the clinic sends nothing")
        for i in range(args.messages):
            book(i)
        say("==> SMS on: the scheduler queues a reminder for each, the worker sends them")
        switched = time.monotonic()
        assert call(server, session, "PUT", base + "/settings/communications", {"channels": ["sms"]})[0] == 200
        deadline = switched + 300
        while len(provider.arrivals) < args.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        arrivals = list(provider.arrivals)
        if len(arrivals) < args.messages:
            raise SystemExit(f"only {len(arrivals)} of {args.messages} reminders arrived in 300 s")
        rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
        gaps = sorted(b - a for a, b in zip(arrivals, arrivals[1:]))
        if os.environ.get("OUTBOX_BENCH_GAPS"):
            say(f"    gaps: median {gaps[len(gaps) // 2] * 1000:.1f} ms, p90 {gaps[int(len(gaps) * 0.9)] * 1000:.1f} ms, "
                f"max {gaps[-1] * 1000:.0f} ms, over 50 ms: {sum(g > 0.05 for g in gaps)}")
        say(f"    {len(arrivals)} reminders: first {arrivals[0] - switched:.1f} s after the switch, "
            f"then {rate:.0f} messages/s (all in {arrivals[-1] - switched:.1f} s)")

        def latencies(offset, count=200):
            times = sorted(book(offset + i) for i in range(count))
            return {"p50_ms": round(times[len(times) // 2] * 1000, 1), "p99_ms": round(times[int(len(times) * 0.99) - 1] * 1000, 1)}

        fast = latencies(args.messages)
        provider.delay = 0.5
        slow = latencies(args.messages + 200)
        provider.delay = 0
        say(f"==> booking latency (each queues a confirmation): provider at once p50 {fast['p50_ms']} ms p99 {fast['p99_ms']} ms; "
            f"provider taking 0.5 s p50 {slow['p50_ms']} ms p99 {slow['p99_ms']} ms")
        result = {"messages": args.messages, "drain_messages_per_second": round(rate, 1),
                  "first_after_switch_s": round(arrivals[0] - switched, 2), "all_after_switch_s": round(arrivals[-1] - switched, 2),
                  "booking_with_fast_provider": fast, "booking_with_slow_provider": slow, "database": "sqlite"}
        if args.out:
            with open(args.out, "w") as out:
                json.dump(result, out, indent=2)
            say(f"==> wrote {args.out}")
    finally:
        server.stop()
        provider.stop()


if __name__ == "__main__":
    main()
