"""usdtgen: USDT probes for Linux — D provider files to C headers, Python probes, and a tracer."""

__version__ = "0.1.0"

__all__ = ["Provider", "__version__"]


def __getattr__(name: str):
    # the runtime (cffi) loads only for programs that define probes, not for the CLI
    if name == "Provider":
        from usdtgen.runtime.provider import Provider
        return Provider
    raise AttributeError(f"module 'usdtgen' has no attribute {name!r}")
