"""usdtgen: USDT probes for Linux — D provider files to C headers, Python probes, and a tracer."""

__version__ = "0.1.0"
