"""Container health check: GET /healthz on the local gunicorn; exit 0 when it answers 200.

Used by the Dockerfile's HEALTHCHECK and docker-compose.yml. Sends a Host header the app
accepts (the first of ALLOWED_HOSTS) and X-Forwarded-Proto: https, so that the production
settings (ALLOWED_HOSTS, SECURE_SSL_REDIRECT behind a TLS proxy) answer instead of
rejecting or redirecting the probe. No Django import: it must stay cheap.
"""

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    port = os.environ.get("PORT", "8000")
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = next((h.lstrip(".") for h in hosts if h != "*"), "localhost")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz",
        headers={"Host": host, "X-Forwarded-Proto": "https"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - a fixed http://127.0.0.1 URL
            ok = response.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
