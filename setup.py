"""Packaging for the two pure-Python packages of m365_sync.

The Odoo addon (``m365_sync/``) is not packaged here: Odoo loads it from its
addons path. What is packaged is what the addon imports and what the tests and
benchmarks run without Odoo: the Graph client (``m365_graph``) and the Graph
emulator (``m365_sandbox``).
"""

from setuptools import find_packages, setup

setup(
    name="m365-sync-graph",
    version="19.0.1.0.0",
    description="Microsoft Graph client and Graph sandbox for the m365_sync Odoo addon",
    long_description=open("README.md", encoding="utf-8").read(),  # noqa: SIM115
    long_description_content_type="text/markdown",
    license="LGPL-3",
    python_requires=">=3.10",
    packages=find_packages(
        include=["m365_graph", "m365_graph.*", "m365_sandbox", "m365_sandbox.*"]
    ),
    install_requires=[
        "msal>=1.28",
        "cryptography>=3.4",
        "requests>=2.31",
        "python-dateutil>=2.8",
        "tzlocal>=5.0",
    ],
    extras_require={
        "sandbox": ["werkzeug>=2.2", "trustme>=1.1"],
        "test": ["pytest>=7.4", "hypothesis>=6.90", "ruff>=0.6"],
    },
    entry_points={"console_scripts": ["m365-sandbox=m365_sandbox.__main__:main"]},
)
