"""The README's screenshots, taken from a running `make demo` database with Chromium.

Why this file exists: screenshots in the README go stale as soon as a screen
changes; this script makes them again in one command, the same way each time,
from the demo's data (`make demo` must be serving Odoo).

    make demo                      # in one terminal (serves http://localhost:8069)
    make screenshots               # in another: writes docs/screenshots/*.png

Options: --url (default http://localhost:$M365_DEMO_PORT or :8069), --db
(m365_demo), --login/--password (admin/admin), --out (docs/screenshots),
--chromium (default /usr/bin/chromium, else chromium on PATH). It drives the
operating system's Chromium through Playwright (`playwright` in
requirements-test.txt) and never downloads a browser.
"""

import argparse
import asyncio
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The task of the demo's exporting project (tools/demo_setup.py).
DEMO_TASK = "Plan the new desks"

#: (file name, path in Odoo, what must be on screen before the picture, area to frame)
SHOTS = [
    (
        "settings.png",
        "/odoo/settings#m365_permissions",
        "#m365_permissions",
        "div[name='m365_sync'], .app_settings_block[data-key='m365_sync'], #m365_connection",
    ),
    (
        "resource_overview.png",
        "/odoo/resource-overview",
        ".o_m365_overview .o_m365_grid, .o_m365_overview .o_m365_overview_empty",
        None,
    ),
    (
        "workload.png",
        "/odoo/action-m365_sync.action_m365_workload_day",
        ".o_pivot",
        None,
    ),
    (
        "my_accounts.png",
        "/odoo/action-m365_sync.action_m365_my_accounts",
        ".o_form_view",
        None,
    ),
    (
        "activity_in_outlook.png",
        "/odoo/action-project.action_view_all_task",
        ".o_kanban_view, .o_list_view",
        None,
    ),
]


def find_chromium(explicit):
    for candidate in (explicit, "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def main(argv=None):
    port = os.environ.get("M365_DEMO_PORT", "8069")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=f"http://localhost:{port}")
    parser.add_argument("--db", default=os.environ.get("M365_DEMO_DB", "m365_demo"))
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--chromium", default=None)
    args = parser.parse_args(argv)

    chromium = find_chromium(args.chromium)
    if not chromium:
        print("screenshots: no Chromium found (apt-get install chromium)", file=sys.stderr)
        return 1
    try:
        # The asyncio API: Playwright's sync API needs a newer greenlet than Odoo pins.
        from playwright.async_api import async_playwright
    except ImportError:
        print("screenshots: Playwright missing: make venv (requirements-test.txt)", file=sys.stderr)
        return 1
    return asyncio.run(shoot(async_playwright, chromium, args))


async def shoot(async_playwright, chromium, args):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = await browser.new_page(viewport={"width": 1440, "height": 900}, locale="en-US")
        try:
            await page.goto(f"{args.url}/web/login?db={args.db}", wait_until="load")
        except Exception as exc:  # any failure to reach the demo
            print(
                f"screenshots: {args.url} does not answer ({exc}); run make demo", file=sys.stderr
            )
            return 1
        await page.fill("input[name='login']", args.login)
        await page.fill("input[name='password']", args.password)
        await page.click("button[type='submit']")
        await page.wait_for_url("**/odoo**", timeout=30000)
        for name, path, ready, frame in SHOTS:
            await page.goto(f"{args.url}{path}", wait_until="load")
            await page.wait_for_selector(ready, timeout=30000)
            if name == "activity_in_outlook.png":
                # The demo's task of the exporting project, with its activities in the chatter.
                await page.click(
                    f".o_kanban_record:has-text('{DEMO_TASK}'), tr:has-text('{DEMO_TASK}')"
                )
                await page.wait_for_selector(".o-m365-Activity-outlook", timeout=30000)
            await page.mouse.move(0, 899)  # no tooltip in the picture
            await page.wait_for_timeout(800)  # animations and lazy fields settle
            if frame:
                target = page.locator(frame).first
                if await target.count():
                    await target.scroll_into_view_if_needed()
                    await page.wait_for_timeout(300)
            await page.screenshot(path=str(out / name))
            print(f"screenshots: {out / name}")
        await browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
