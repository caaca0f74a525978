"""Screenshots of pages as a user sees them, for looking at what we built.

    .venv/bin/python scripts/screenshots.py --base http://127.0.0.1:8000 --user cs --password cs \
        --out /tmp/shots /orders/ /orders/SO100001/

Each path is taken at desktop (1366x900) and phone (390x844) width with Debian's chromium.
"""

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--out", default="test-artifacts/shots")
    parser.add_argument("--sizes", default="desktop,phone")
    parser.add_argument("--lang", default="en-US")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for size in args.sizes.split(","):
            width, height = SIZES[size]
            context = browser.new_context(viewport={"width": width, "height": height}, locale=args.lang)
            page = context.new_page()
            if args.user:
                page.goto(args.base + "/login/")
                page.fill("#id_username", args.user)
                page.fill("#id_password", args.password)
                page.click("button[type=submit]")
            for path in args.paths:
                page.goto(args.base + path)
                name = path.strip("/").replace("/", "_").replace("?", "_").replace("&", "_") or "root"
                target = out / f"{name}-{size}.png"
                page.screenshot(path=str(target), full_page=True)
                print(target)
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
