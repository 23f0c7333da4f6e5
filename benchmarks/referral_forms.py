"""Latency of the two referral forms under load, with the rate limits on, and that none is doubled.

Under the place-order benchmark's harness (``place_order.py``: gunicorn in production mode on a
fresh PostgreSQL schema, wrk with 50 connections), each pass posts one of the forms:

* ``signed-in``: ``POST /referrals/new`` as the seeded buyer (a real session cookie and CSRF
  token, fetched first through the sign-in form);
* ``public``: ``POST /r/<code>``, the form behind the partner's referral link (a visitor's
  session cookie and CSRF token, fetched from the form page).

Every request is a different company with a fresh idempotency key; the rate limiter is on (its
limits raised so that the load is served, ``--limit``; the limiter's bookkeeping is measured).
After each pass the database must hold exactly one referral per 302 answered, none of them a
duplicate, and no other answer may appear. Target: median under 100 ms for both forms.

Each pass also prints the CPU each request cost (gunicorn workers and PostgreSQL, read from
/proc, steadier than wall time on a busy machine). Unless ``--no-baseline``, the bare reference
app of ``place_order.py`` (Flask, SQLAlchemy Core, two statements, no session, no form) is then
loaded the same way, so the target can be read against what this machine serves at all.

    python benchmarks/referral_forms.py [--duration 30] [--connections 50] [--workers 4]
                                        [--database-url postgresql+psycopg://...] [--sqlite]
                                        [--no-baseline]

Exits 1 when a request fails, a referral is lost or doubled, or the target is missed.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import urllib.parse
import urllib.request
import uuid
from contextlib import ExitStack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import BUYER_EMAIL, BUYER_PASSWORD, DEFAULT_PG_URL, fresh_pg_schema, seed_partner  # noqa: E402
from place_order import LUA as ORDER_LUA  # noqa: E402
from place_order import cpu_per_request, cpu_snapshot, free_port, gunicorn, need_wrk, run_wrk  # noqa: E402
from sqlalchemy import text  # noqa: E402

from portal.db import Base, make_engine  # noqa: E402

TARGET_P50_MS = 100.0

LUA = r"""
local threads = {}
local run, path, cookie, token = "%(run)s", "%(path)s", "%(cookie)s", "%(token)s"

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  counter = 0
  statuses = {}
  headers = {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = cookie}
end

function request()
  counter = counter + 1
  local n = string.format("%%s-%%d-%%d-%%d", run, tid, counter, math.random(0, 999999))
  local body = "csrf_token=" .. token .. "&idempotency_key=" .. n ..
    "&company_name=Shop+" .. n .. "&contact_name=Anna+Nowak&email=anna%%40shop-" .. n .. ".pl" ..
    "&phone=%%2B48+600+100+200&website=&city=Krak%%C3%%B3w&note=&consent=y&referrer_name=Jan&fax="
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local codes = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do codes[code] = (codes[code] or 0) + n end
  end
  local e = summary.errors
  io.write(string.format("BENCH summary %%d %%d %%d %%d %%d %%d %%d\n", summary.requests, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("BENCH latency %%g %%d\n", p, latency:percentile(p)))
  end
  io.write(string.format("BENCH latency max %%d\n", latency.max))
  for code, n in pairs(codes) do io.write(string.format("BENCH status %%d %%d\n", code, n)) end
end
"""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _call(port: int, path: str, cookie: str = "", data: dict | None = None) -> tuple[int, str, str]:
    """(status, body, the session cookie after) of one request; cookies are kept by hand, since
    production's are Secure and this talks plain HTTP to 127.0.0.1."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body,
                                 headers={"Cookie": cookie} if cookie else {})
    try:
        response = _OPENER.open(req, timeout=30)
    except urllib.error.HTTPError as err:  # a 302 arrives here with the redirect handler off
        response = err
    set_cookie = response.headers.get("Set-Cookie", "")
    match = re.match(r"([^=;]+=[^;]*)", set_cookie)
    return response.status, response.read().decode("utf-8", "replace"), match.group(1) if match else cookie


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    if not match:
        raise RuntimeError("no CSRF token on the form page")
    return match.group(1)


def session_for(port: int, form_path: str, *, sign_in: bool) -> tuple[str, str]:
    """(Cookie header, CSRF token) of a browser that opened the form (signed in first if asked)."""
    cookie = ""
    if sign_in:
        _status, page, cookie = _call(port, "/login")
        status, _body, cookie = _call(port, "/login", cookie, {
            "csrf_token": _token(page), "email": BUYER_EMAIL, "password": BUYER_PASSWORD})
        if status != 302:
            raise RuntimeError(f"sign-in answered {status}")
    status, page, cookie = _call(port, form_path, cookie)
    if status != 200:
        raise RuntimeError(f"{form_path} answered {status}")
    return cookie, _token(page)


def cpu_line(cpu: dict) -> str:
    return (f"CPU per request: gunicorn {cpu['gunicorn']:.1f} ms, database {cpu['postgres']:.1f} ms; "
            f"{cpu['busy CPUs']:.2f} CPUs busy, {cpu['other CPUs']:.2f} of them other processes, "
            f"load average {os.getloadavg()[0]:.2f}")


def bare_pass(stack: ExitStack, args, wrk: str, tmp: str) -> None:
    """The bare reference app (place_order.py's) under the same gunicorn and wrk settings."""
    url = (f"sqlite:///{os.path.join(tmp, 'bare.db')}" if args.sqlite
           else stack.enter_context(fresh_pg_schema(args.database_url, "bench_bare")))
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    seed = seed_partner(engine)
    engine.dispose()
    port = free_port()
    master = stack.enter_context(gunicorn(
        url, port, args.workers, os.path.join(tmp, "bare.log"), app="bare_app:app",
        cwd=os.path.dirname(os.path.abspath(__file__)),
        env={"BARE_PARTNER_ID": str(seed["partner_id"]), "BARE_USER_ID": str(seed["buyer_id"])}))
    script = os.path.join(tmp, "bare.lua")
    with open(script, "w") as fh:
        fh.write(ORDER_LUA % {"token": "", "run": "bare-" + uuid.uuid4().hex[:10],
                              "ack_path": os.path.join(tmp, "bare_acked.txt"),
                              "skus": ", ".join(f'"{sku}"' for _id, sku, _name, _price in seed["products"])})
    before = cpu_snapshot(master.pid)
    _out, result = run_wrk(wrk, port, script, threads=args.threads, connections=args.connections,
                           duration=args.duration)
    cpu = cpu_per_request(before, cpu_snapshot(master.pid), result["requests"])
    rps = result["requests"] / (result["duration_us"] / 1e6)
    print(f"\nbare reference app (POST an order, 2 statements, no session or form): {rps:.0f}/s; "
          f"latency p50 {result['latency_us'].get('50', 0) / 1000:.1f} ms, "
          f"p99 {result['latency_us'].get('99', 0) / 1000:.1f} ms; answers {dict(result['statuses'])}")
    print(f"  {cpu_line(cpu)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--limit", default="1000000 per hour",
                        help="the referral rate limits during the load (per address and per link)")
    parser.add_argument("--database-url", default=DEFAULT_PG_URL)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare reference app's pass")
    args = parser.parse_args()
    wrk = need_wrk()
    failures: list[str] = []
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_referrals_"))
        url = (f"sqlite:///{os.path.join(tmp, 'bench.db')}" if args.sqlite
               else stack.enter_context(fresh_pg_schema(args.database_url, "bench_ref")))
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        seed = seed_partner(engine)
        with engine.connect() as conn:
            code = conn.execute(text("SELECT referral_code FROM partners WHERE id = :id"),
                                {"id": seed["partner_id"]}).scalar_one()
        port = free_port()
        master = stack.enter_context(gunicorn(url, port, args.workers, os.path.join(tmp, "gunicorn.log"), env={
            "REFERRAL_RATE_LIMIT_IP": args.limit, "REFERRAL_RATE_LIMIT_CODE": args.limit,
            "REFERRAL_RATE_LIMIT_USER": args.limit}))
        print(f"database: {'SQLite' if args.sqlite else 'PostgreSQL'}; gunicorn -w {args.workers} "
              f"(pid {master.pid}); wrk -t {args.threads} -c {args.connections} -d {args.duration}s; "
              f"rate limits on at {args.limit!r}; {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.2f}")
        for name, path, signed_in in (("signed-in", "/referrals/new", True), ("public", f"/r/{code}", False)):
            cookie, token = session_for(port, path, sign_in=signed_in)
            run = uuid.uuid4().hex[:10]
            script = os.path.join(tmp, f"{name}.lua")
            with open(script, "w") as fh:
                fh.write(LUA % {"run": run, "path": path, "cookie": cookie, "token": token})
            with engine.connect() as conn:
                before = conn.execute(text("SELECT count(*) FROM referrals")).scalar_one()
            before_cpu = cpu_snapshot(master.pid)
            _out, result = run_wrk(wrk, port, script, threads=args.threads, connections=args.connections,
                                   duration=args.duration)
            cpu = cpu_per_request(before_cpu, cpu_snapshot(master.pid), result["requests"])
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT count(*) FROM referrals")).scalar_one() - before
                duplicates = conn.execute(text(
                    "SELECT count(*) FROM referrals WHERE status = 'duplicate' AND idempotency_key LIKE :run"),
                    {"run": run + "%"}).scalar_one()
            codes = dict(result["statuses"])
            p50 = result["latency_us"].get("50", 0) / 1000
            rps = result["requests"] / (result["duration_us"] / 1e6)
            print(f"\n{name}: {result['requests']} requests, {rps:.0f}/s; latency p50 {p50:.1f} ms, "
                  f"p90 {result['latency_us'].get('90', 0) / 1000:.1f} ms, "
                  f"p99 {result['latency_us'].get('99', 0) / 1000:.1f} ms; answers {codes}; "
                  f"referrals stored {stored}, duplicates {duplicates}")
            print(f"  {cpu_line(cpu)}")
            if set(codes) - {302}:
                failures.append(f"{name}: answers other than 302: {codes}")
            # wrk stops mid-flight: a request it sent may be stored without its answer being read
            if not codes.get(302, 0) <= stored <= codes.get(302, 0) + args.connections:
                failures.append(f"{name}: {codes.get(302, 0)} answered 302 but {stored} stored")
            if duplicates:
                failures.append(f"{name}: {duplicates} stored as duplicates")
            if p50 >= TARGET_P50_MS:
                failures.append(f"{name}: median {p50:.1f} ms, target under {TARGET_P50_MS:.0f} ms")
        engine.dispose()
        if not args.no_baseline:
            bare_pass(stack, args, wrk, tmp)
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print(f"\nOK: both forms under {TARGET_P50_MS:.0f} ms median, every referral stored once.")


if __name__ == "__main__":
    main()
