"""The fh command's curl-style options (tools/fh_curl.c, fh_info.c, fh_progress.c,
fh_multi.c, fh_cookiefile.c) against the local httpbin and nginx: -L, -u (Basic and
--digest), --retry, -b/-c cookie files, -v, -w (and %{json}), several URLs and -Z, and the
progress meter, which is drawn only on a terminal: the tests give fh a pseudo-terminal as
stderr (the pty module) and read what it drew. Needs build/release/fh (scripts/test.sh
builds it; FH_BIN points elsewhere); a missing binary fails."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
from pathlib import Path

import pytest
from servers import Nginx

def run(fh: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([fh, *args], capture_output=True, text=True, timeout=60)


def on_terminal(fh: str, *args: str) -> tuple[int, str]:
    """Runs fh with a pseudo-terminal as stderr; its exit status and what it drew there."""
    leader, follower = pty.openpty()
    try:
        p = subprocess.Popen([fh, *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=follower)
        os.close(follower)
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the program closed its end
                break
            if not chunk:
                break
            drawn += chunk
        return p.wait(60), drawn.decode(errors="replace")
    finally:
        os.close(leader)


def test_redirects_only_with_L(fh: str, httpbin: str) -> None:
    assert run(fh, "-w", "%{http_code}", "-o", "/dev/null",
               httpbin + "/redirect/2").stdout == "302"
    out = run(fh, "-L", "-w", "%{http_code} %{num_redirects} %{url_effective}", "-o",
              "/dev/null", httpbin + "/redirect/2")
    assert out.stdout == f"200 2 {httpbin}/get"
    too_many = run(fh, "-L", "--max-redirs", "1", httpbin + "/redirect/3")
    assert too_many.returncode == 1 and "redirect" in too_many.stderr.lower()


def test_basic_and_digest_credentials(fh: str, httpbin: str) -> None:
    basic = run(fh, "-u", "ann:pw", httpbin + "/basic-auth/ann/pw")
    assert basic.returncode == 0 and json.loads(basic.stdout)["authenticated"] is True
    assert run(fh, "-u", "ann:wrong", "-w", "%{http_code}", "-o", "/dev/null",
               httpbin + "/basic-auth/ann/pw").stdout == "401"
    digest = run(fh, "--digest", "-u", "ann:pw", httpbin + "/digest-auth/auth/ann/pw")
    assert digest.returncode == 0 and json.loads(digest.stdout)["user"] == "ann"
    assert run(fh, "-u", "no-colon", httpbin + "/get").returncode == 2


def test_retry(fh: str, httpbin: str) -> None:
    out = run(fh, "--retry", "2", "-w", "%{http_code} %{num_retries}", "-o", "/dev/null",
              httpbin + "/status/503")
    assert out.stdout == "503 2"
    assert run(fh, "-w", "%{num_retries}", "-o", "/dev/null",
               httpbin + "/status/503").stdout == "0"


def test_cookie_files_netscape_format(fh: str, httpbin: str, tmp_path: Path) -> None:
    jar = tmp_path / "cookies.txt"
    assert run(fh, "-L", "-c", str(jar), "-o", "/dev/null",
               httpbin + "/cookies/set?flavour=oat&n=2").returncode == 0
    lines = [line for line in jar.read_text().splitlines() if line and not line.startswith("#")]
    assert sorted(line.split("\t")[5:] for line in lines) == [["flavour", "oat"], ["n", "2"]]
    assert all(line.split("\t")[0] == "127.0.0.1" and len(line.split("\t")) == 7
               for line in lines)
    sent = run(fh, "-b", str(jar), httpbin + "/cookies")
    assert json.loads(sent.stdout) == {"cookies": {"flavour": "oat", "n": "2"}}
    # A file written by hand (curl's format: a leading dot for subdomains, #HttpOnly_).
    hand = tmp_path / "hand.txt"
    hand.write_text("# Netscape HTTP Cookie File\n"
                    "#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\tabc\n"
                    "127.0.0.1\tFALSE\t/nowhere\tFALSE\t0\tother\tx\n")
    assert json.loads(run(fh, "-b", str(hand), httpbin + "/cookies").stdout) == {
        "cookies": {"sid": "abc"}}
    assert json.loads(run(fh, "-b", "a=1; b=2", httpbin + "/cookies").stdout) == {
        "cookies": {"a": "1", "b": "2"}}
    bad = tmp_path / "bad.txt"
    bad.write_text("not a cookie line\n")
    assert run(fh, "-b", str(bad), httpbin + "/cookies").returncode == 2


def test_verbose_tls_details_and_timings(fh: str, nginx: Nginx) -> None:
    out = run(fh, "-v", "--cacert", nginx.ca_file, nginx.https + "/json", nginx.https + "/json")
    err = out.stderr
    assert out.returncode == 0, err
    assert "* Connected to 127.0.0.1 port" in err
    assert "* Re-using existing connection #1 with 127.0.0.1" in err
    assert "* SSL connection using TLSv1." in err and "* ALPN: server accepted http/1.1" in err
    assert "*  subject: " in err and "*  issuer: " in err
    assert "> GET /json HTTP/1.1" in err and "> Host: 127.0.0.1:" in err
    assert "< HTTP/1.1 200 OK" in err
    assert err.count("* Timings (s): dns ") == 2


def test_write_out_json(fh: str, nginx: Nginx) -> None:
    out = run(fh, "-o", "/dev/null", "--cacert", nginx.ca_file, "-w", "%{json}",
              nginx.https + "/json")
    info = json.loads(out.stdout)
    assert info["http_code"] == "200" and info["remote_ip"] == "127.0.0.1"
    assert info["ssl_version"].startswith("TLSv1.") and info["ssl_cipher"]
    assert 0 < info["time_connect"] <= info["time_appconnect"] <= info["time_total"]
    assert info["size_download"] > 0 and info["connection_reused"] == 0


def test_many_urls_in_order_sequential_and_parallel(fh: str, httpbin: str) -> None:
    urls = [f"{httpbin}/anything/{i}" for i in range(6)]
    for flags in ([], ["-Z"]):
        out = run(fh, *flags, "-w", "%{http_code}\\n", *urls)
        assert out.returncode == 0, out.stderr
        got = [json.loads(doc)["url"] for doc in out.stdout.split("200\n") if doc]
        assert got == urls
    failed = run(fh, "-Z", httpbin + "/get", "http://127.0.0.1:1/")
    assert failed.returncode == 1 and '"url"' in failed.stdout


def test_progress_meter_on_a_terminal_only(fh: str, nginx: Nginx, tmp_path: Path) -> None:
    target = tmp_path / "big.bin"
    status, drawn = on_terminal(fh, "-o", str(target), nginx.http + "/big.bin")
    assert status == 0
    size = target.stat().st_size
    assert "down 100%" in drawn and "/s" in drawn and "ETA" in drawn, drawn[-500:]
    assert drawn.endswith("\n") and "\r" in drawn
    # Silent with -s, and when stderr is not a terminal.
    assert on_terminal(fh, "-s", "-o", str(target), nginx.http + "/big.bin")[1] == ""
    quiet = run(fh, "-o", str(target), nginx.http + "/big.bin")
    assert quiet.returncode == 0 and quiet.stderr == "" and target.stat().st_size == size


def test_progress_meter_upload(fh: str, httpbin: str, tmp_path: Path) -> None:
    data = tmp_path / "up.bin"
    data.write_bytes(b"u" * (3 << 20))
    status, drawn = on_terminal(fh, "--data-file", str(data), "-o", str(tmp_path / "r"),
                                httpbin + "/post")
    assert status == 0
    assert re.search(r"up 100% +3\.0M of +3\.0M .*/s +ETA", drawn), drawn[-500:]


def test_the_package_installs_the_fh_command(httpbin: str) -> None:
    import sys

    script = Path(sys.executable).parent / "fh"
    assert script.exists(), "the fh console script of pyproject.toml is not installed"
    out = subprocess.run([str(script), "-w", " %{http_code}", httpbin + "/get"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.endswith(" 200") and json.loads(out.stdout[:-4])["url"] == httpbin + "/get"
