"""Issue 8, part 2: sqlmap (Debian's), in batch mode and signed in, tries SQL injection on every
parameter of every API operation that takes one: path ids, query parameters and JSON body fields.
sqlmap exits 0 whatever it finds, so the verdict is read from its output: no injection point may
be reported (a boolean-blind one is checked again by sending its true and false forms, since an
operation that echoes its input with a new id each time can fool sqlmap's comparison).
Bounded: level 1, risk 1, boolean-blind, error-based and UNION techniques (no time-based blind,
whose waits alone would take hours), three operations at a time."""
import json
import os
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from attack_target import build_clinic
from conftest import medicare, report_measurement

SQLMAP = shutil.which("sqlmap")
# The database behind each server is known, so sqlmap sends only that database's payloads.
DBMS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
TECHNIQUES = os.environ.get("CLINICKEEP_E2E_SQLMAP_TECHNIQUES", "BEU")
# Operations that would end the session sqlmap rides on, or lock the account.
SKIPPED = re.compile(r"/auth/logout|/me/(sessions|password|totp|recovery)|/security$|^/api/v1/clinics/\{clinicId\}$")
# sqlmap's verdict, after its own false-positive checks. Its earlier "appears to be ... injectable"
# is a candidate it goes on to confirm or drop: creating operations answer a little differently
# each time (new ids), which raises candidates its confirmation then rejects.
FOUND = re.compile(r"identified the following injection point|parameter '[^']*' is vulnerable", re.I)
CANDIDATE = re.compile(r"appears to be '.*' injectable|false positive or unexploitable", re.I)


def resolve(schema, document):
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


# Fields whose valid values have a shape the document gives only in words.
BY_NAME = {"phone": "0412 345 678", "medicareNumber": medicare(), "birthDate": "1980-02-03", "providerNumber": "2426621B",
           "startsAt": "2031-05-07T10:00:00Z", "password": "correct horse battery staple 1", "country": "AU"}
UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def last_of_each_list(value):
    """A JSON answer with each list cut to its last item. An operation that adds to a record and
    answers with the whole record (an amendment to a consultation) grows a list by one at every
    request, so the true and false forms differ in length alone; a real boolean injection in a
    filter answers with items for one form and none for the other, which this keeps."""
    if isinstance(value, list):
        return [last_of_each_list(value[-1])] if value else []
    if isinstance(value, dict):
        return {key: last_of_each_list(item) for key, item in value.items()}
    return value


def confirmed(server, owner, method, url, body, output):
    """sqlmap's boolean-blind verdicts, checked again: each payload sent as sqlmap found it (its
    condition true) and with the condition made false, and the two answers compared with ids,
    times and numbers blanked. A creating operation echoes what it was sent and answers with a new
    id each time, which sqlmap can take for a changed page; a real injection answers differently
    (a filter that now matches nothing) whatever is echoed. Other techniques stand as found."""
    real = []
    blocks = re.findall(r"Type: (.+?)\n\s+Title: .+?\n\s+Payload: (.+?)\n", output)
    for kind, payload in blocks or [("unparsed", "")]:
        condition = re.search(r"\b(\d+)=\1\b", payload)
        if "boolean" not in kind or not condition:
            real.append(kind)
            continue
        false_payload = payload[:condition.start()] + "%s=%d" % (condition.group(1), int(condition.group(1)) + 1) + payload[condition.end():]

        def answer(text):
            if text.startswith(server.base):
                plain = json.loads(json.dumps(body).replace("*", "")) if body is not None else None
                response = owner.request(method, text[len(server.base):], json=plain)
            else:
                response = owner.request(method, url.replace("*", ""), data=text.encode(), headers={"Content-Type": "application/json"})
            try:
                shown = json.dumps(last_of_each_list(response.json()), sort_keys=True)
            except ValueError:
                shown = response.text
            normal = re.sub(r"\d+", "N", UUID_TEXT.sub("U", shown))
            return response.status_code, normal

        if answer(payload) != answer(false_payload):
            real.append(kind)
    return real


def original(name, schema, ids):
    """A value the schema accepts, as text. sqlmap varies one marked value at a time and keeps the
    others as they are, so each must be valid: one bad value (a time of "x") turns every request
    of the operation into the same 400 and hides whatever the varied one does."""
    if name in ids:
        return ids[name]
    if "enum" in schema:
        return str(schema["enum"][0])
    kind, form = schema.get("type"), schema.get("format")
    if kind == "integer":
        return str(schema.get("minimum", 1))
    if form == "date-time":
        # A window wide enough to hold every record: the unvaried request must find them.
        return "2100-01-01T00:00:00Z" if name == "to" else "2000-01-01T00:00:00Z"
    if form == "date":
        return "1980-02-03"
    if form == "uuid":
        return "00000000-0000-4000-8000-000000000000"
    if form == "email" or name == "email":
        return "probe@example.org"
    return BY_NAME.get(name, "x")


def marked_body(schema, document, ids):
    """A JSON body with every string field marked for injection, each holding a valid value."""
    schema = resolve(schema, document)
    body = {}
    for name, prop in schema.get("properties", {}).items():
        prop = resolve(prop, document)
        if "enum" in prop:
            body[name] = prop["enum"][0]
        elif prop.get("type") == "string":
            body[name] = original(name, prop, ids) + "*"
        elif prop.get("type") == "integer":
            body[name] = max(prop.get("minimum", 1), prop.get("multipleOf", 1))
        elif prop.get("type") == "boolean":
            body[name] = True
    return body


def targets(document, ids):
    """(method, marked URL path, marked JSON body or None) for each operation with parameters;
    deletions last, so that nothing the other operations are aimed at is gone before them."""
    operations = [(path, method, operation) for path, methods in document["paths"].items() for method, operation in methods.items()]
    for path, method, operation in sorted(operations, key=lambda item: item[1] == "delete"):
        if SKIPPED.search(path):
            continue
        params = operation.get("parameters", [])
        url = path
        for p in params:
            if p["in"] == "path":
                url = url.replace("{%s}" % p["name"], original(p["name"], resolve(p.get("schema", {}), document), ids) + "*")
        query = ["%s=%s*" % (p["name"], original(p["name"], resolve(p.get("schema", {}), document), ids)) for p in params if p["in"] == "query"]
        if query:
            url += "?" + "&".join(query)
        content = operation.get("requestBody", {}).get("content", {})
        body = marked_body(content["application/json"]["schema"], document, ids) if "application/json" in content else None
        if "*" in url or (body and "*" in json.dumps(body)):
            yield method.upper(), url, body


def run_sqlmap(server, owner, method, url, body, output_dir):
    command = [SQLMAP, "-u", server.base + url, "--method", method, "--batch", "--level", "1", "--risk", "1",
               "--dbms", DBMS[server.backend],
               "--technique", TECHNIQUES, "--threads", "2", "--timeout", "10", "--retries", "1", "--flush-session",
               "--disable-coloring", "--output-dir", str(output_dir), "--skip-waf", "--ignore-code", "400,401,403,404,405,409,410,413,415,429",
               "--headers", "Cookie: __Host-clinickeep-session=%s\nX-CSRF-Token: %s\nContent-Type: application/json" % (owner.cookie, owner.csrf)]
    if body is not None:
        command += ["--data", json.dumps(body)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    return result.stdout + result.stderr


def test_sqlmap_finds_no_injectable_parameter(make_server, backend, tmp_path):
    if not SQLMAP:
        pytest.fail("sqlmap is required (apt-get install sqlmap; .ci/run does)", pytrace=False)
    # Debian's sqlmap (1.7) speaks TLS 1.0 to 1.2 only, never 1.3: this server also accepts 1.2.
    # What sqlmap attacks, the API behind TLS, is the same; part 1 holds the TLS minimum to 1.3.
    server = make_server(backend, env={"CLINICKEEP_TLS_MIN": "1.2"})
    clinic = build_clinic(server, "A")
    owner = clinic.owner
    document = server.get("/api/v1/openapi.json").json()
    found, covered = [], []
    started = time.monotonic()
    operations = list(targets(document, clinic.ids))
    # The unvaried request, once each: an operation that fails even so gives sqlmap nothing to
    # compare with, so the report says how many were really exercised. (Not for deletions.)
    baselines = {}
    for method, url, body in operations:
        if method != "DELETE":
            plain = json.loads(json.dumps(body).replace("*", "")) if body is not None else None
            baselines[(method, url)] = owner.request(method, url.replace("*", ""), json=plain).status_code
    answered = sum(1 for status in baselines.values() if 200 <= status < 300)
    # Three sqlmap processes at a time (each with its own session folder), deletions after the
    # rest: sqlmap spends most of its time waiting on answers, and CI's time is bounded.
    outputs = {}
    for phase in ([op for op in operations if op[0] != "DELETE"], [op for op in operations if op[0] == "DELETE"]):
        with ThreadPoolExecutor(max_workers=3) as pool:
            jobs = {pool.submit(run_sqlmap, server, owner, method, url, body, tmp_path / ("sqlmap-%d" % operations.index((method, url, body)))):
                    (method, url) for method, url, body in phase}
            for job, key in jobs.items():
                outputs[key] = job.result()
    for method, url, body in operations:
        output = outputs[(method, url)]
        baseline = baselines.get((method, url))
        tested = len(re.findall(r"testing '", output))
        dismissed = len(re.findall(r"false positive or unexploitable", output))
        verdict = confirmed(server, owner, method, url, body, output) if FOUND.search(output) else []
        if FOUND.search(output) and not verdict:
            dismissed += 1
        covered.append("%s %s: %d tests%s%s" % (method, url.split("?")[0].replace(owner.clinic_id, "{clinicId}"), tested,
                                                "" if baseline is None or 200 <= baseline < 300 else " (unvaried: %d)" % baseline,
                                                ", %d candidates dismissed (by sqlmap, or on a second look)" % dismissed if dismissed else ""))
        if verdict:
            found.append("%s %s\n%s" % (method, url, "\n".join(l for l in output.splitlines()
                                                       if FOUND.search(l) or CANDIDATE.search(l) or "Parameter:" in l or "Payload:" in l)[:3000]))
        assert tested > 0, "sqlmap tried nothing on %s %s:\n%s" % (method, url, output[-2000:])
    report_measurement("sqlmap (%s): %d operations (%d answered 2xx unvaried), techniques %s, level 1, risk 1, %.0f s: %s" % (
        server.backend, len(covered), answered, TECHNIQUES, time.monotonic() - started, "no injectable parameter" if not found else "%d FOUND" % len(found)))
    for line in covered:
        report_measurement("sqlmap (%s):   %s" % (server.backend, line))
    assert not found, "\n\n".join(found)
