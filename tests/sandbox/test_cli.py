"""``python -m m365_sandbox`` starts, prints what a client needs, and serves."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests


# A background job of a shell starts with SIGINT ignored; the CLI must stop on it anyway.
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_cli_prints_credentials_and_serves(tmp_path, stop_signal):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(  # noqa: S603 - our own module
        [
            sys.executable,
            "-m",
            "m365_sandbox",
            "--seed",
            "default",
            "--port",
            "0",
            "--tls-dir",
            str(tmp_path / "tls"),
            "--non-interactive",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if line.startswith("Press Ctrl-C"):
                break
        output = "\n".join(lines)
        for label in (
            "tenant id:",
            "client id:",
            "client secret:",
            "CA file:",
            "authority:",
            "graph:",
        ):
            assert label in output, output
        fields = dict(re.findall(r"^([a-zA-Z -]+):\s+(\S+)$", output, re.MULTILINE))
        assert os.path.exists(fields["CA file"]) and fields["CA file"].startswith(str(tmp_path))
        response = requests.post(
            f"{fields['authority']}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": fields["client id"],
                "client_secret": fields["client secret"],
                "scope": "https://graph.microsoft.com/.default",
            },
            verify=fields["CA file"],
            timeout=10,
        )
        assert response.status_code == 200
        token = response.json()["access_token"]
        users = requests.get(
            f"{fields['graph']}/users",
            headers={"Authorization": f"Bearer {token}"},
            verify=fields["CA file"],
            timeout=10,
        )
        assert users.status_code == 200 and users.json()["value"]
    finally:
        process.send_signal(stop_signal)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    assert process.returncode == 0
