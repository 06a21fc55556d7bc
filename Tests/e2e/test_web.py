#!/usr/bin/env python3
"""test_web.py -- the web side end to end: a real headless Chromium, curl and dig against `rbld serve --web`.

Ingests a bounce to a known trap, starts `rbld serve --web`, then a person's path in
Chromium (driven over the W3C WebDriver protocol by Debian's chromedriver, no client library): open /, type the listed
address, read the evidence, request delisting, see the confirmation; and `dig` must get
NXDOMAIN within 1 s of it. Screenshots go to $RBLD_E2E_ARTIFACTS (default
ci-output/web next to the project), for a person to look at. curl checks the JSON API's
answers and errors and the rate limit. Everything listens on loopback; every loop is
bounded in count and time.
"""
import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ROOT, Process, Suite, dig, expect, free_port, free_tcp_port, have, rbld_binary, run,  # noqa: E402
                     tempdir, wait_for)

ZONE = "bl.example.org"
SOURCE = "46.19.37.108"
OTHER = "46.19.37.109"
TRAP_LOCAL = "winter.sale.7731"
TRAP_DOMAIN = "catch-e2e.example"
TRAP_HOST = "vault9.trapnet-e2e.example"


def bounce(source, bouncer, ident):
    return f"""Return-Path: <>
Delivered-To: {TRAP_LOCAL}@{TRAP_DOMAIN}
Received: from {TRAP_HOST} ({TRAP_HOST} [127.0.0.1])
\tby store.{TRAP_DOMAIN} (Dovecot) with LMTP id A{ident}
\tfor <{TRAP_LOCAL}@{TRAP_DOMAIN}>; Tue, 11 Mar 2025 09:14:05 +0100
Received: from {bouncer} ({bouncer} [{source}])
\tby mx.{TRAP_DOMAIN} (Postfix) with ESMTPS id B{ident}
\tfor <{TRAP_LOCAL}@{TRAP_DOMAIN}>; Tue, 11 Mar 2025 09:14:02 +0100
Date: Tue, 11 Mar 2025 09:14:01 +0100
From: MAILER-DAEMON@{bouncer} (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender ({TRAP_LOCAL}@{TRAP_DOMAIN})
To: {TRAP_LOCAL}@{TRAP_DOMAIN}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b{ident}"
Message-Id: <{ident}@{bouncer}>

--b{ident}
Content-Type: text/plain; charset=us-ascii

This is the mail system at host {bouncer}. Your message could not be delivered.

--b{ident}
Content-Type: message/delivery-status

Reporting-MTA: dns; {bouncer}

Final-Recipient: rfc822; nobody@example.org
Action: failed
Status: 5.1.1

--b{ident}
Content-Type: text/rfc822-headers

From: <{TRAP_LOCAL}@{TRAP_DOMAIN}>
To: nobody@example.org
Subject: Replica watches

--b{ident}--
""".replace("\n", "\r\n")


def rev4(ip):
    return ".".join(reversed(ip.split("."))) + "." + ZONE


def curl(*args, timeout=20):
    """(status, headers, body) of one curl call."""
    result = subprocess.run(["curl", "-s", "-S", "-i", "--max-time", "10", *args], capture_output=True, text=True, timeout=timeout)
    # text=True reads the CRLFs as plain newlines.
    head, _, body = result.stdout.partition("\n\n")
    lines = head.split("\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else 0
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def secrets_absent(text, where):
    lowered = text.lower()
    for secret in (TRAP_LOCAL, TRAP_DOMAIN, TRAP_HOST, "trapnet-e2e"):
        expect(secret.lower() not in lowered, f"{where} reveals {secret}")


class WebDriver:
    """Chromium driven over the W3C WebDriver protocol by Debian's chromedriver (no client library)."""

    ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

    def __init__(self, artifacts):
        self.port = free_tcp_port()
        self.log = open(os.path.join(artifacts, "chromedriver.log"), "wb")
        self.proc = subprocess.Popen(["chromedriver", f"--port={self.port}"], stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        if not wait_for(lambda: self._ready(), 20, interval=0.1):
            raise AssertionError("chromedriver did not start")
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1000,1400",
                "--no-first-run", "--disable-extensions"]
        session = self._call("POST", "/session", {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}}}})
        self.session = f"/session/{session['sessionId']}"
        self._call("POST", self.session + "/timeouts", {"pageLoad": 20000, "implicit": 0})

    def _ready(self):
        try:
            return self._call("GET", "/status").get("ready", False)
        except OSError:
            return False

    def _call(self, method, path, body=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return json.loads(answer.read() or b"{}").get("value")
        except urllib.error.HTTPError as error:
            raise AssertionError(f"WebDriver {method} {path}: {error.code} {error.read()[:300]!r}")

    def get(self, url):
        self._call("POST", self.session + "/url", {"url": url})

    @property
    def url(self):
        return self._call("GET", self.session + "/url")

    @property
    def page_source(self):
        return self._call("GET", self.session + "/source")

    def find(self, css):
        return self._call("POST", self.session + "/element", {"using": "css selector", "value": css})[self.ELEMENT]

    def find_xpath(self, xpath):
        return self._call("POST", self.session + "/element", {"using": "xpath", "value": xpath})[self.ELEMENT]

    def wait_for(self, css, timeout=10):
        found = {}

        def present():
            try:
                found["id"] = self.find(css)
                return True
            except AssertionError:
                return False
        expect(wait_for(present, timeout, interval=0.05), f"no {css} within {timeout} s")
        return found["id"]

    def type(self, element, text):
        self._call("POST", f"{self.session}/element/{element}/clear", {})
        self._call("POST", f"{self.session}/element/{element}/value", {"text": text})

    def click(self, element):
        self._call("POST", f"{self.session}/element/{element}/click", {})

    def text(self, element):
        return self._call("GET", f"{self.session}/element/{element}/text")

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self._call("GET", self.session + "/screenshot")))

    def quit(self):
        try:
            self._call("DELETE", self.session, timeout=10)
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.log.close()


def main():
    rbld = rbld_binary()
    for program in ("dig", "curl", "chromium", "chromedriver"):
        if not have(program):
            sys.exit(f"e2e web: {program} is missing (scripts/bootstrap installs it)")
    work = tempdir("rbld-e2e-web-")
    artifacts = os.environ.get("RBLD_E2E_ARTIFACTS") or os.path.join(ROOT, "ci-output", "web")
    os.makedirs(artifacts, exist_ok=True)
    db = os.path.join(work, "rbld.sqlite")
    for source, ident in ((SOURCE, "1001"), (OTHER, "1002")):
        result = run([rbld, "ingest", "--db", db, "--zone", ZONE, "-"], input=bounce(source, f"mail{ident}.bouncer-e2e.example.com", ident))
        expect(result.returncode == 0, f"ingest: {result.stdout} {result.stderr}")
    dns_port = free_port()
    web_port = free_tcp_port()
    server = Process([rbld, "serve", "--db", db, "--zone", ZONE, "--listen", f"127.0.0.1:{dns_port}",
                      "--web", f"127.0.0.1:{web_port}", "--poll-interval", "0.1"], os.path.join(work, "serve.log"))
    base = f"http://127.0.0.1:{web_port}"
    suite = Suite("e2e web")
    try:
        up = wait_for(lambda: dig(dns_port, rev4("127.0.0.2")).status == "NOERROR"
                      and curl(f"{base}/api/v1/lookup/127.0.0.2")[0] == 200, 30, interval=0.2)
        if not up:
            print(open(os.path.join(work, "serve.log")).read())
            raise SystemExit("rbld serve --web did not come up")

        def listed_before():
            answer = dig(dns_port, rev4(SOURCE))
            expect(answer.status == "NOERROR" and "127.0.0.2" in answer.text, f"not listed before: {answer.text}")

        def api_lookup():
            status, headers, body = curl(f"{base}/api/v1/lookup/{OTHER}")
            expect(status == 200, f"status {status}")
            expect(headers.get("content-type") == "application/json", headers)
            zone = json.loads(body)["zones"][0]
            for key in ("zone", "listed", "code", "txt", "kinds", "first_seen", "last_seen", "expires", "hits", "delistable"):
                expect(key in zone, f"no {key} in {zone}")
            expect(zone["listed"] is True and zone["code"] == "127.0.0.2" and zone["hits"] == 1 and zone["delistable"] is True, zone)
            expect(zone["expires"].endswith("Z") and "T" in zone["first_seen"], zone)
            secrets_absent(body, "the API answer")
            for header, value in (("content-security-policy", "default-src 'self'"), ("x-content-type-options", "nosniff"),
                                  ("referrer-policy", "no-referrer")):
                expect(headers.get(header, "").startswith(value), f"{header}: {headers.get(header)}")

        def api_errors():
            # From an address of its own: delisting requests cost the client ten requests of its
            # rate budget, which the browser below (from 127.0.0.1) must still have.
            client = ("--interface", "127.0.0.79")
            status, _, body = curl(*client, f"{base}/api/v1/lookup/1.2.3.999")
            expect(status == 400 and "1.2.3.999" in json.loads(body)["error"], body)
            status, _, body = curl(*client, "-X", "POST", "-H", "Content-Type: application/json", "--data", "{not json",
                                   f"{base}/api/v1/delist")
            expect(status == 400 and "JSON" in json.loads(body)["error"], body)
            status, _, body = curl(*client, "-X", "POST", "-H", "Content-Type: application/json", "--data",
                                   json.dumps({"ip": "46.19.37.200", "email": "a@example.com", "reason": "x"}), f"{base}/api/v1/delist")
            expect(status == 409 and json.loads(body)["status"] == "refused", body)
            status, _, body = curl(*client, f"{base}/api/v1/nothing")
            expect(status == 404 and "error" in json.loads(body), body)

        def rate_limit():
            # The default limit (5/s, burst 30) from one loopback address: at most 60 requests.
            statuses = []
            retry = None
            for _ in range(60):
                status, headers, _ = curl("--interface", "127.0.0.77", f"{base}/api/v1/lookup/{OTHER}")
                statuses.append(status)
                if status == 429:
                    retry = headers.get("retry-after")
                    break
            expect(429 in statuses, f"no 429 in {len(statuses)} requests")
            expect(retry is not None and int(retry) >= 1, f"Retry-After {retry}")
            expect(curl("--interface", "127.0.0.78", f"{base}/api/v1/lookup/{OTHER}")[0] == 200, "another client is limited too")

        def person_delists_in_a_browser():
            driver = WebDriver(artifacts)
            try:
                driver.get(base + "/")
                expect("Is your mail server listed?" in driver.page_source, "no search page")
                driver.screenshot(os.path.join(artifacts, "1-search.png"))
                driver.type(driver.find("#ip"), SOURCE)
                driver.click(driver.find("form.search button"))
                expect(wait_for(lambda: f"/lookup/{SOURCE}" in driver.url, 10), f"not on the lookup page: {driver.url}")
                page = driver.page_source
                expect("listed" in page and "127.0.0.2" in page, "the lookup page does not say listed")
                expect("Evidence" in page and "bouncer-e2e.example.com" in page, "no evidence with the bouncing host")
                secrets_absent(page, "the lookup page")
                driver.screenshot(os.path.join(artifacts, "2-lookup.png"))
                driver.click(driver.find_xpath("//button[starts-with(normalize-space(.), 'Request delisting')]"))
                driver.type(driver.wait_for("#email"), "postmaster@bouncer-e2e.example.com")
                driver.type(driver.find("#reason"), "Bounces are now rejected during the SMTP session.")
                driver.screenshot(os.path.join(artifacts, "3-delist-form.png"))
                driver.click(driver.find("form[action='/delist'] button[type='submit']"))
                try:
                    outcome_element = driver.wait_for("#outcome")
                except AssertionError as error:
                    driver.screenshot(os.path.join(artifacts, "4-no-confirmation.png"))
                    shown = driver.text(driver.find("body"))[:400]
                    raise AssertionError(f"{error}; the page shows: {shown}") from None
                confirmed = time.monotonic()
                outcome = driver.text(outcome_element)
                expect("is delisted" in outcome, f"confirmation says: {outcome}")
                # DNS answers the removal within 1 s of the confirmation (at most 40 queries).
                deadline = confirmed + 1.0
                gone = None
                for _ in range(40):
                    if dig(dns_port, rev4(SOURCE)).status == "NXDOMAIN":
                        gone = time.monotonic() - confirmed
                        break
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.02)
                expect(gone is not None and gone <= 1.0, f"still listed 1 s after the confirmation (gone after {gone})")
                print(f"     NXDOMAIN {gone * 1000:.0f} ms after the confirmation", flush=True)
                driver.screenshot(os.path.join(artifacts, "4-delisted.png"))
                driver.get(f"{base}/lookup/{SOURCE}")
                expect("delisted" in driver.page_source, "the lookup page does not say delisted")
                driver.screenshot(os.path.join(artifacts, "5-lookup-after.png"))
                driver.get(base + "/stats")
                expect("<svg" in driver.page_source, "no chart on /stats")
                driver.screenshot(os.path.join(artifacts, "6-stats.png"))
            finally:
                driver.quit()

        def audited():
            status, _, body = curl(f"{base}/api/v1/lookup/{SOURCE}")
            zone = json.loads(body)["zones"][0]
            expect(zone["listed"] is False and zone["status"] == "delisted", zone)
            show = run([rbld, "show", "--db", db, "--zone", ZONE, SOURCE]).stdout
            expect("web:127.0.0.1" in show and "self-service" in show, f"no audit row in:\n{show}")

        suite.check("listed before", listed_before)
        suite.check("API lookup: every field, security headers, no trap", api_lookup)
        suite.check("API errors: 400, 409, 404 as JSON", api_errors)
        suite.check("rate limit: 429 with Retry-After, per client", rate_limit)
        suite.check("browser: look up, read evidence, delist; dig NXDOMAIN within 1 s", person_delists_in_a_browser)
        suite.check("delisting audited and served", audited)
    finally:
        code = server.stop()
        if code not in (0, None):
            print(open(os.path.join(work, "serve.log")).read())
    print(f"screenshots in {artifacts}")
    return suite.finish()


if __name__ == "__main__":
    sys.exit(main())
